/** Sample requests replaying a sampler fixture's stored noise, modes and classes. */
import type { Tensor } from "../models/core/tensor.ts";
import { toFloat32 } from "../models/core/tensor.ts";
import type { SampleRequest } from "../stages/diffusion/sampler.ts";

/**
 * One request per fixture sample: `z0` [B, ...], `noise` [steps, B, ...], `modes` [B, ...], `y` [B].
 */
export function fixtureRequests(
  tensors: Map<string, Tensor>,
  batch: number,
  dim: number,
): SampleRequest[] {
  const z0 = toFloat32(tensors.get("z0")!);
  const noise = toFloat32(tensors.get("noise")!); // [steps, B, C, H, W]
  const modes = toFloat32(tensors.get("modes")!);
  const y = [...(tensors.get("y")!.data as BigInt64Array)].map(Number);
  return y.map((classId, b) => ({
    classId,
    mode: modes.slice(b * dim, (b + 1) * dim),
    noise: {
      initial: () => z0.slice(b * dim, (b + 1) * dim),
      step: (i: number) => noise.slice((i * batch + b) * dim, (i * batch + b + 1) * dim),
    },
  }));
}
