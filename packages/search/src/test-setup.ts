import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
// The onednn backend, where its addon was built (it registers itself on import).
import '@adl/onednn';

await tf.setBackend('cpu');
await tf.ready();
