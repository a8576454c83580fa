import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

// Variables are created at import and in describe blocks: make the cpu backend current first.
await tf.setBackend('cpu');
await tf.ready();
