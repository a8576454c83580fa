import { isAbsolute } from 'node:path';
import { AUTO_DEEPLAB_GENOTYPE } from '@adl/cell';
import { ArchitectureError, parseArchitecture, readArchitectureFile, type Architecture } from './architecture.js';

/** The path Auto-DeepLab found, levels per layer (design §7; the DeepLab NAS code's `backbone`). */
export const AUTO_DEEPLAB_PATH: readonly number[] = [0, 0, 0, 1, 2, 1, 2, 2, 3, 3, 2, 1];

/** Auto-DeepLab-S, -M and -L: the found path and cell, F = 20, 32 and 48 (paper Table 2). */
const FILTER_MULTIPLIERS = { 'autodeeplab-s': 20, 'autodeeplab-m': 32, 'autodeeplab-l': 48 } as const;

export type PresetName = keyof typeof FILTER_MULTIPLIERS;
export const PRESET_NAMES = Object.keys(FILTER_MULTIPLIERS) as PresetName[];

export const PRESETS: Readonly<Record<PresetName, Architecture>> = Object.fromEntries(
  PRESET_NAMES.map((name) => [name, parseArchitecture({ name, path: AUTO_DEEPLAB_PATH, genotype: AUTO_DEEPLAB_GENOTYPE, filterMultiplier: FILTER_MULTIPLIERS[name] }, name)]),
) as Record<PresetName, Architecture>;

export function getPreset(name: string): Architecture {
  if (!(PRESET_NAMES as readonly string[]).includes(name)) {
    throw new RangeError(`unknown preset "${name}"; presets: ${PRESET_NAMES.join(', ')}`);
  }
  return PRESETS[name as PresetName];
}

/**
 * A preset by name, or an architecture JSON file; a reference that is neither (a preset name with a
 * typo) says so and lists the presets.
 */
export async function resolveArchitecture(reference: string): Promise<Architecture> {
  if ((PRESET_NAMES as readonly string[]).includes(reference)) return getPreset(reference);
  return readArchitectureFile(reference).catch((error: Error) => {
    if ((error.cause as NodeJS.ErrnoException | undefined)?.code !== 'ENOENT') throw error;
    const where = isAbsolute(reference) ? '' : ` (relative paths are taken from the current folder, ${process.cwd()})`;
    throw new ArchitectureError(`${reference}: not found: neither a preset (${PRESET_NAMES.join(', ')}) nor an existing architecture file${where}`);
  });
}
