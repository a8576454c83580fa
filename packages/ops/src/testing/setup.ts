import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerOneDnnBackend } from '../onednn-backend.js';

// The onednn backend joins the test backends wherever @adl/onednn was built.
const onednn = await import('@adl/onednn').then((m: any) => m.default ?? m, () => null);
if (onednn?.binding) registerOneDnnBackend(onednn.binding);

// Variables are created at import and in describe blocks: make the cpu backend current first.
await tf.setBackend('cpu');
await tf.ready();
