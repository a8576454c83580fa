import * as tf from '@tensorflow/tfjs';
// Registers the onednn backend and kernel set where the addon was built.
import './index.js';

// Variables are created at import and in describe blocks: make the cpu backend current first.
await tf.setBackend('cpu');
await tf.ready();
