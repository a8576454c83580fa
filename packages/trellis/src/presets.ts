import { parseArchitecture, type Architecture } from './architecture.js';
import presetData from './presets.json';

/**
 * The paper's found network (SPEC §7; DeepLab NAS code `hnasnet`): path
 * [0, 0, 0, 1, 2, 1, 2, 2, 3, 3, 2, 1] and the Auto-DeepLab cell, at F = 20 / 32 / 48.
 */
export const PRESET_NAMES = ['autodeeplab-s', 'autodeeplab-m', 'autodeeplab-l'] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

export const PRESETS: Readonly<Record<PresetName, Architecture>> = Object.fromEntries(
  PRESET_NAMES.map((name) => [name, parseArchitecture(presetData[name], `presets.json#${name}`)]),
) as Record<PresetName, Architecture>;

export function getPreset(name: string): Architecture {
  if (!(PRESET_NAMES as readonly string[]).includes(name)) {
    throw new RangeError(`unknown preset "${name}"; presets: ${PRESET_NAMES.join(', ')}`);
  }
  return PRESETS[name as PresetName];
}
