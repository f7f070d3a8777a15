// The models module: buildNet(spec) for the mlp, cnn, resnet and transformer families, imitation
// projections, and a filesystem IOHandler for TF.js LayersModel files.
//
// - Nets are tf.layers layers applied eagerly; forward/hiddenStates leave intermediates to the
//   caller's tf.tidy. Weights come from seeded initializers (He-normal before ReLU/GELU), so the same
//   spec gives the same weights; variable names (`block3_conv/kernel`, `head_dense/bias`) are stable.
// - params counts trainable weights (BatchNorm moving statistics are state, not params); flops counts
//   multiply-accumulates per example of dense, conv and attention products (not norms, activations,
//   pooling or embedding lookups).
// - model.dropout is used by the transformer only.
// - Importing this module registers the transformer's custom layers (GowideMultiHeadSelfAttention,
//   GowidePositionEmbedding) with tf.serialization: import it before tf.loadLayersModel reads an
//   exported transformer.
export type { BlockNet, DataShape, NetPart, NetSpec, ProjectionBuilder } from './types';
export { buildNet } from './build';
export { buildProjection } from './projection';
export { fileSystemHandler, loadLayersModel, saveLayersModel, MODEL_JSON, WEIGHTS_BIN } from './fs-io';
export { MultiHeadSelfAttention, PositionEmbedding } from './transformer-layers';
