// How a parameter tensor starts (ParamSpec.init). Each kind says it for each
// of its tensors: a draw from the training stream or a constant, or "by the
// fans" (fanInit), which the config's `init` scheme resolves (drawOf):
//   weight: U(±a), a = √(6/(fanIn + fanOut)) (Glorot), √(6/fanIn) (He),
//           1/√fanIn (PyTorch's nn.Linear / nn.Conv2d default)
//   bias:   0, or U(±1/√fanIn) under the PyTorch scheme.
// The arena (model/network.ts) performs a Draw and never asks what a tensor is.
// Not here: the random stream (assembly/rng.ts), the order of the draws (the
// arena's: layer by layer, tensor by tensor, in arena order).

/** The config's weight initialisation scheme (VAEConfig.init): "glorot"
 *  uniform, "he" uniform, or "pytorch" (nn.Linear's default: weights and
 *  biases U(±1/√fanIn)). */
export type InitScheme = "glorot" | "he" | "pytorch";
/** Every InitScheme. */
export const INIT_SCHEMES: readonly InitScheme[] = ["glorot", "he", "pytorch"];

/** What the arena does to a tensor: fill it with a constant, or draw it. */
export type Draw =
  | {
    /** Every entry this value. */
    constant: number;
  }
  | {
    /** U(lo, hi): lo + (hi − lo)·u with u ~ U[0, 1) from the training stream. */
    uniform: [number, number];
  }
  | {
    /** U(±a): (2u − 1)·a with u ~ U[0, 1) from the training stream. */
    symmetric: number;
  }
  | {
    /** N(mean, std²): [mean, std], mean + std·n with n ~ N(0, 1). */
    normal: [number, number];
  };

/** A tensor's initialisation: a Draw, or the fan rule of a weight or a bias
 *  that the config's scheme resolves (fanInit / drawOf). Plain data. */
export type ParamInit = Draw | {
  /** The fan rule (see the file header). */
  fans: {
    /** A weight (U(±a) by the scheme) or a bias (0, or U(±1/√fanIn) under "pytorch"). */
    role: "weight" | "bias";
    /** A dense layer's input width; a convolution's kh·kw times its weight's third axis (Keras' fans). */
    fanIn: number;
    /** A dense layer's output width; a convolution's kh·kw times its weight's last axis. */
    fanOut: number;
  };
};

/** The fan rule for a weight or a bias (what dense and convolutions use). */
export function fanInit(role: "weight" | "bias", fanIn: number, fanOut: number): ParamInit {
  return { fans: { role, fanIn, fanOut } };
}

/** The Draw of a tensor under the config's scheme. */
export function drawOf(init: ParamInit, scheme: InitScheme): Draw {
  if (!("fans" in init)) return init;
  const { role, fanIn, fanOut } = init.fans;
  if (role === "bias" && scheme !== "pytorch") return { constant: 0 };
  return { symmetric: scheme === "he" ? Math.sqrt(6 / fanIn) : scheme === "pytorch" ? 1 / Math.sqrt(fanIn) : Math.sqrt(6 / (fanIn + fanOut)) };
}
