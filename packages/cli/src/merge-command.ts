import { join } from 'node:path';
import { iouTableJson, iouTableMarkdown, mergeEvaluations, recordMetrics } from '@adl/eval';
import { logToStderr } from '@adl/search';

/** `adl merge`: the shards of one `adl eval --shard` into the folder an unsharded eval writes; prints its table. */
export async function runMerge(dirs: readonly string[], outDir: string, { json = false, log = logToStderr } = {}) {
  const merged = await mergeEvaluations(dirs, outDir);
  const { classNames } = merged.setting;
  const metrics = recordMetrics(merged);
  if (json) process.stdout.write(`${JSON.stringify({ ...iouTableJson(metrics, classNames), images: merged.images.length })}\n`);
  else process.stdout.write(`${iouTableMarkdown(metrics, classNames)}\n\n${merged.images.length} images from ${dirs.length} shards\n`);
  log(`[adl] wrote ${join(outDir, 'metrics.json')}, iou.md, evaluation.json and the shards' PNGs`);
  return { merged, metrics };
}
