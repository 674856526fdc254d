// Architecture presets of `wasm-vae train --arch`: the layer lists for images
// of h×w×c (NHWC rows), given once the data is known.
//   mlp         the --encoder / --decoder sizes (the PyTorch-example MLP)
//   keras_conv  the Keras VAE example exactly (keras.io/examples/generative/vae):
//               Conv2D 32, 64 (3×3, stride 2, same, ReLU) → Flatten → Dense 16 →
//               (μ, log σ²); Dense (h/4)(w/4)·64 → Reshape → Conv2DTranspose 64,
//               32 (3×3, stride 2, same, ReLU) → Conv2DTranspose c (3×3, same)
//   conv        ours: no 16-unit bottleneck, 4×4 kernels (every stride-2 output
//               pixel sees whole 2×2 cells), a 256-unit dense layer each side
//   iwae2       the IWAE paper's two stochastic layers (Burda et al. 2015, §5):
//               x → 200-200 → z₁ (100) → 100-100 → z₂ (50) and back (config.latents);
//               the paper's tanh is --activation tanh
// The last decoder layer outputs the likelihood's shape (c channels, 2c for a
// learned σ), so it is the output layer (see the README's output-layer rule).
import type { LatentLevelConfig, LayerEntry, Likelihood } from "wasm-vae";
import { UsageError } from "./args.js";

export const ARCHS = ["mlp", "keras_conv", "conv", "iwae2"] as const;

/** --arch iwae2: the stochastic layers of the IWAE paper's second architecture. */
export const IWAE2_LATENTS: LatentLevelConfig[] = [
  { encoder: [200, 200], size: 100, decoder: [200, 200] },
  { encoder: [100, 100], size: 50, decoder: [100, 100] },
];
export type Arch = (typeof ARCHS)[number];

export interface ArchLayers { inputShape: number[]; encoder: LayerEntry[]; decoder: LayerEntry[] }

/** The layer lists of a convolutional preset for h×w×c images. */
export function presetLayers(arch: Exclude<Arch, "mlp" | "iwae2">, [h, w, c]: [number, number, number], likelihood: Likelihood): ArchLayers {
  if (h % 4 !== 0 || w % 4 !== 0) {
    throw new UsageError(`--arch ${arch}: needs images whose height and width are multiples of 4 (two stride-2 layers each way), got ${h}×${w}`);
  }
  const out = likelihood === "gaussian_learned" ? 2 * c : c;
  const inputShape = [h, w, c];
  if (arch === "keras_conv") {
    return {
      inputShape,
      encoder: [
        { type: "conv2d", filters: 32, kernel: 3, stride: 2, padding: "same", activation: "relu" },
        { type: "conv2d", filters: 64, kernel: 3, stride: 2, padding: "same", activation: "relu" },
        { type: "flatten" },
        { type: "dense", units: 16, activation: "relu" },
      ],
      decoder: [
        { type: "dense", units: (h / 4) * (w / 4) * 64, activation: "relu" },
        { type: "reshape", shape: [h / 4, w / 4, 64] },
        { type: "conv2d_transpose", filters: 64, kernel: 3, stride: 2, padding: "same", activation: "relu" },
        { type: "conv2d_transpose", filters: 32, kernel: 3, stride: 2, padding: "same", activation: "relu" },
        { type: "conv2d_transpose", filters: out, kernel: 3, stride: 1, padding: "same" },
      ],
    };
  }
  return {
    inputShape,
    encoder: [
      { type: "conv2d", filters: 32, kernel: 4, stride: 2, padding: "same", activation: "relu" },
      { type: "conv2d", filters: 64, kernel: 4, stride: 2, padding: "same", activation: "relu" },
      { type: "flatten" },
      { type: "dense", units: 256, activation: "relu" },
    ],
    decoder: [
      { type: "dense", units: 256, activation: "relu" },
      { type: "dense", units: (h / 4) * (w / 4) * 64, activation: "relu" },
      { type: "reshape", shape: [h / 4, w / 4, 64] },
      { type: "conv2d_transpose", filters: 32, kernel: 4, stride: 2, padding: "same", activation: "relu" },
      { type: "conv2d_transpose", filters: out, kernel: 4, stride: 2, padding: "same" },
    ],
  };
}
