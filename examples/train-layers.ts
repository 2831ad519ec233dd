/**
 * hfpl as a library, the way a TF.js user meets it: a `@tensorflow/tfjs-layers` model that
 * outputs CAM logits, trained with hfpl's add-on losses (METHOD 1):
 * L = 0.8 L_GAP + 0.2 L_ISL + L_FSL.
 *
 * Run: `npm run build && node dist/examples/train-layers.js [--steps 30]`. Prints one line per
 * step, then a JSON object { steps, losses, numTensors, engine } as its last line.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import {
  initEngine, describeEngine, featureSimilarityLoss, fslTargetFromCam, importanceSamplingLoss, multilabelSoftMarginLoss,
} from 'hfpl';

const K = 3; // foreground classes: red, green and blue squares
const SIZE = 32; // input size; the CAM is SIZE / 4

/** Synthetic images in [0, 1] (grey background, squares of the present classes) and float32 multi-hot labels. */
function makeBatch(n: number, seed: number): { images: tf.Tensor4D; labels: tf.Tensor2D } {
  let s = seed;
  const rand = (): number => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  const pixels = new Float32Array(n * SIZE * SIZE * 3).fill(0.5);
  const labels = new Float32Array(n * K);
  for (let b = 0; b < n; b++) {
    for (let c = 0; c < K; c++) {
      if (rand() < 0.5 && !(c === K - 1 && labels.subarray(b * K, b * K + c).every((v) => v === 0))) continue;
      labels[b * K + c] = 1;
      const side = 8 + Math.floor(rand() * 8), y0 = Math.floor(rand() * (SIZE - side)), x0 = Math.floor(rand() * (SIZE - side));
      for (let y = y0; y < y0 + side; y++) {
        for (let x = x0; x < x0 + side; x++) {
          for (let ch = 0; ch < 3; ch++) pixels[((b * SIZE + y) * SIZE + x) * 3 + ch] = ch === c ? 0.9 : 0.1;
        }
      }
    }
  }
  return { images: tf.tensor4d(pixels, [n, SIZE, SIZE, 3]), labels: tf.tensor2d(labels, [n, K]) };
}

/**
 * A small CAM network: two stride-2 convolutions, a dilated one, and a 1x1 convolution to 1 + K
 * logits (background at channel 0). Dilated layers get an activation: a linear conv layer runs
 * TF.js's fused conv op, whose own gradient refuses dilation.
 */
function camModel(): tfl.Sequential {
  const init = (seed: number) => tfl.initializers.heNormal({ seed });
  return tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [SIZE, SIZE, 3], filters: 16, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', kernelInitializer: init(1) }),
      tfl.layers.conv2d({ filters: 32, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', kernelInitializer: init(2) }),
      tfl.layers.conv2d({ filters: 32, kernelSize: 3, dilationRate: 2, padding: 'same', activation: 'relu', kernelInitializer: init(3) }),
      tfl.layers.conv2d({ filters: 1 + K, kernelSize: 1, useBias: false, kernelInitializer: init(4) }),
    ],
  });
}

async function main(steps: number): Promise<void> {
  const engine = await initEngine(); // once, before training: picks the backend, registers kernels and gradients
  console.log(`engine: ${describeEngine(engine)}`);
  const model = camModel();
  const { images, labels } = makeBatch(8, 1);
  const optimizer = tf.train.adam(0.01);
  let step = 0;

  // --- the README's "Use as a library" snippet starts here ---
  // The model call goes inside the function handed to minimize: TF.js finds the variables to
  // train only among the ops recorded while that function runs.
  const loss = (): tf.Scalar => tf.tidy(() => {
    const cam = model.apply(images, { training: true }) as tf.Tensor4D; // N x h x w x (1 + K) logits
    const [, h, w] = cam.shape;
    const fg = tf.slice(cam, [0, 0, 0, 1], [-1, -1, -1, -1]); // the K foreground channels
    const gap = multilabelSoftMarginLoss(tf.mean(fg, [1, 2]), labels); // labels: N x K, 0/1
    const isl = importanceSamplingLoss(fg, labels, { seed: step }); // 10 samples per image and class
    const small = tf.image.resizeBilinear(images, [h, w], true); // the image (RGB in [0, 1]) at the CAM's size
    const fsl = featureSimilarityLoss(small, fslTargetFromCam(cam, labels)); // all 1 + K channels
    return tf.addN([tf.mul(0.8, gap), tf.mul(0.2, isl), fsl]) as tf.Scalar;
  });
  // --- snippet ends ---

  const losses: number[] = [];
  const numTensors: number[] = [];
  for (step = 0; step < steps; step++) {
    const l = optimizer.minimize(loss, true) as tf.Scalar;
    losses.push(l.dataSync()[0]);
    l.dispose();
    numTensors.push(tf.memory().numTensors);
    console.log(`step ${step + 1}/${steps}: loss ${losses[step].toFixed(4)}, tensors ${numTensors[step]}`);
  }
  console.log(JSON.stringify({ steps, losses, numTensors, engine: describeEngine(engine) }));
}

const at = process.argv.indexOf('--steps');
await main(at > 0 ? Number(process.argv[at + 1]) : 30);
