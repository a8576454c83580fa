import * as tf from '@tensorflow/tfjs';
// The onednn backend, where its addon was built (it registers itself on import).
import '@adl/onednn';

await tf.setBackend(tf.findBackend('onednn') ? 'onednn' : 'cpu');
await tf.ready();
