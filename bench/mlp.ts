// The MLP step the thread benches time (bench/spin-ab.ts, bench/thread-profile.ts):
// the PyTorch-example VAE 784-400-20-400-784, ReLU, Bernoulli, and real MNIST batches.
import { loadMnist } from "../src/index.js";

export const mlpConfig = (B: number) => ({ inputDim: 784, encoder: [400], latentDim: 20, decoder: [400], activation: "relu" as const,
                                           likelihood: "bernoulli" as const, seed: 0, maxBatch: B });

/** Batch i of B rows of the first `limit` training images (cycling). */
export async function mnistBatches(limit = 4096): Promise<(B: number, i: number) => Float32Array> {
  const mnist = await loadMnist({ limit });
  return (B, i) => {
    const s = (i * B) % (mnist.count - B);
    return mnist.images.subarray(s * 784, (s + B) * 784);
  };
}
