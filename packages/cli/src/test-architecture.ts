/**
 * A found network one level down from the stem (path [0, 1]) with every op kind and few channels
 * (`filterMultiplier` 2): small enough to retrain in a test, and its stride-2 1×1 convolutions on
 * even maps are the ones oneDNN 2.6's AVX2 filter gradient corrupted the heap with.
 */
export const TINY_ARCHITECTURE = {
  name: 'tiny',
  path: [0, 1],
  genotype: [[1, 'sep_conv_3x3'], [0, 'skip_connect'], [2, 'atrous_conv_3x3'], [1, 'avg_pool_3x3'], [3, 'skip_connect'], [0, 'max_pool_3x3'], [4, 'sep_conv_5x5'], [1, 'skip_connect'], [5, 'skip_connect'], [2, 'atrous_conv_5x5']],
  filterMultiplier: 2,
};
