import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
// The onednn backend joins the test backends wherever its addon was built (it registers on import).
import '@adl/onednn';

// Variables are created at import and in describe blocks: make the cpu backend current first.
await tf.setBackend('cpu');
await tf.ready();
