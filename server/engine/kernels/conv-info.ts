// The geometry of a conv or pool kernel from the attrs TF.js passes it, shared by the gradient
// kernels of wasm-gradients.ts and the native kernels of ../native/conv-kernels.ts.

import { backend_util } from '@tensorflow/tfjs-core';
import type { NamedAttrMap } from '@tensorflow/tfjs-core';

export type Shape4 = [number, number, number, number];
export type PadAttr = 'valid' | 'same' | number | backend_util.ExplicitPadding;

/** The attrs of Conv2D, FusedConv2D, their gradients, the depthwise gradients and MaxPoolGrad. */
export interface ConvAttrs {
  strides: [number, number] | number;
  pad: PadAttr;
  dataFormat: 'NHWC' | 'NCHW';
  dilations: [number, number] | number;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterSize: [number, number] | number;
  filterShape: Shape4;
  inputShape: Shape4;
}

/** A kernel's attrs, typed (TF.js passes them as a NamedAttrMap). */
export function convAttrs(attrs: NamedAttrMap): ConvAttrs {
  return attrs as unknown as ConvAttrs;
}

/**
 * Conv2DInfo of input `inShape` and filter `filterShape` with the attrs' strides, pad and rounding.
 * dilated: use the attrs' dilations (forward convs), else 1 (the gradient kernels). depthwise: a
 * depthwise conv, whose attrs have no dataFormat (NHWC); otherwise the attrs' dataFormat.
 */
export function conv2DInfo(
  inShape: readonly number[],
  filterShape: readonly number[],
  attrs: NamedAttrMap,
  options: { dilated?: boolean; depthwise?: boolean } = {},
): backend_util.Conv2DInfo {
  const { strides, pad, dataFormat, dilations, dimRoundingMode } = convAttrs(attrs);
  const depthwise = options.depthwise ?? false;
  return backend_util.computeConv2DInfo(
    inShape as Shape4,
    filterShape as Shape4,
    strides,
    options.dilated ? dilations : 1,
    pad,
    dimRoundingMode,
    depthwise,
    depthwise ? undefined : backend_util.convertConv2DDataFormat(dataFormat),
  );
}

/** Pool2DInfo (no dilation) of a pool over `inShape` with the attrs' filterSize, strides, pad and rounding. */
export function pool2DInfo(inShape: readonly number[], attrs: NamedAttrMap): backend_util.Conv2DInfo {
  const { filterSize, strides, pad, dimRoundingMode } = convAttrs(attrs);
  return backend_util.computePool2DInfo(inShape as Shape4, filterSize, strides, 1, pad, dimRoundingMode);
}
