import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The device files through which a Linux process reaches a GPU: DRM render nodes (AMD, Intel,
 * NVIDIA's open driver, virtio), NVIDIA's own nodes, and WSL2's `/dev/dxg`. Without any, a Vulkan
 * driver can only offer a software adapter; `auto` then skips WebGPU without loading Dawn, which
 * prints warnings on stderr as soon as it enumerates adapters.
 */
export function gpuDeviceFiles(dev = '/dev'): string[] {
  const list = (folder: string) => {
    try {
      return readdirSync(folder);
    } catch {
      return [];
    }
  };
  return [
    ...list(join(dev, 'dri'))
      .filter((name) => name.startsWith('renderD'))
      .map((name) => join(dev, 'dri', name)),
    ...list(dev)
      .filter((name) => /^nvidia\d+$/.test(name) || name === 'dxg')
      .map((name) => join(dev, name)),
  ];
}
