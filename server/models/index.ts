// The models module. Importing it also registers gowide's custom layers with tf.serialization,
// so tf.loadLayersModel can read exported models back.
export type { BlockNet, DataShape, NetPart, NetSpec, ProjectionBuilder } from './types';
export { buildNet } from './build';
export { buildProjection } from './projection';
export { fileSystemHandler, loadLayersModel, saveLayersModel, MODEL_JSON, WEIGHTS_BIN } from './fs-io';
