/** One part of a list split across the tasks of a job array: item k belongs to shard k mod `count`. */
export interface Shard {
  readonly index: number;
  readonly count: number;
}

export class ShardError extends Error {
  override readonly name = 'ShardError';
}

const wholeNumber = (text: string | undefined) => (text !== undefined && /^\d+$/.test(text) ? Number(text) : undefined);

/**
 * A shard from `I/N` (0 ≤ I < N), or from the job array running this process: `auto` reads a Slurm
 * array task (its position among SLURM_ARRAY_TASK_MIN, …, MAX by STEP, of SLURM_ARRAY_TASK_COUNT),
 * `auto/N` a Kubernetes Indexed Job's JOB_COMPLETION_INDEX (which carries no count) or a Slurm task.
 */
export function parseShard(spec: string, env: NodeJS.ProcessEnv = process.env): Shard {
  const [head, countText, ...rest] = spec.split('/');
  const count = countText === undefined ? undefined : wholeNumber(countText);
  if (rest.length > 0 || (countText !== undefined && !count)) throw new ShardError(`--shard ${spec}: expected I/N, auto or auto/N with N a whole number from 1`);
  let index: number | undefined;
  let total = count;
  if (head === 'auto') {
    const slurmId = wholeNumber(env.SLURM_ARRAY_TASK_ID);
    const kubernetesIndex = wholeNumber(env.JOB_COMPLETION_INDEX);
    if (slurmId !== undefined) {
      const [min, step, slurmCount] = [wholeNumber(env.SLURM_ARRAY_TASK_MIN) ?? 0, wholeNumber(env.SLURM_ARRAY_TASK_STEP) ?? 1, wholeNumber(env.SLURM_ARRAY_TASK_COUNT)];
      index = (slurmId - min) / step;
      if (total !== undefined && slurmCount !== undefined && total !== slurmCount) throw new ShardError(`--shard ${spec}: the Slurm array has ${slurmCount} tasks, not ${total}`);
      total ??= slurmCount;
      if (total === undefined) throw new ShardError(`--shard ${spec}: SLURM_ARRAY_TASK_COUNT is not set; give the count: --shard auto/N`);
    } else if (kubernetesIndex !== undefined) {
      if (total === undefined) throw new ShardError(`--shard ${spec}: JOB_COMPLETION_INDEX carries no count; give it: --shard auto/N (N = the Job's completions)`);
      index = kubernetesIndex;
    } else {
      throw new ShardError(`--shard ${spec}: neither SLURM_ARRAY_TASK_ID (a Slurm job array) nor JOB_COMPLETION_INDEX (a Kubernetes Indexed Job) is set`);
    }
  } else {
    index = wholeNumber(head);
    if (index === undefined || total === undefined) throw new ShardError(`--shard ${spec}: expected I/N, auto or auto/N with N a whole number from 1`);
  }
  if (!Number.isInteger(index) || index < 0 || index >= total) throw new ShardError(`--shard ${spec}: shard ${index} is not one of 0…${total - 1}`);
  return { index, count: total };
}

/** The items of `shard`: item k of the (stably ordered) list when k mod count = index. */
export function itemsOfShard<T>(items: readonly T[], { index, count }: Shard): T[] {
  return items.filter((_, k) => k % count === index);
}
