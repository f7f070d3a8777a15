// Gradient kernels that the TF.js wasm backend lacks, so that conv nets, depthwise convs and
// embeddings (gather) can be trained on it.
//
// TF.js 4.22's wasm backend registers forward kernels and most gradient kernels, but not:
//   Conv2DBackpropFilter                 (gradient of conv2d w.r.t. its filter)
//   DepthwiseConv2dNativeBackpropInput   (gradient of depthwiseConv2d w.r.t. its input)
//   DepthwiseConv2dNativeBackpropFilter  (gradient of depthwiseConv2d w.r.t. its filter)
//   UnsortedSegmentSum                   (gradient of gather, i.e. of embeddings)
// Everything else needed by conv / pool / batch-norm / relu / gelu / layer-norm / softmax
// cross-entropy / attention training exists there (checked with getKernelsForBackend('wasm')).
//
// These kernels run in every training step, so the heavy ones are expressed as calls to the
// backend's own XNNPACK-backed kernels (Conv2D, DepthwiseConv2dNative, Transpose, PadV2) instead of
// JavaScript loops. Intermediate tensors are freed with backend.disposeData as soon as possible.
//
// We also replace three existing kernels: Conv2DBackpropInput (the backend's own is a scalar C++
// loop, while the same result is a stride-1 XNNPACK convolution of zero-dilated dy with the
// flipped, transposed filter: 8-16x faster), MaxPoolGrad (the backend's own gives wrong gradients
// for all-negative windows) and BatchMatMul with a transposed operand (the backend's own falls
// off XNNPACK onto a scalar loop), and Identity and same-dtype Cast (the backend's own copy the
// data; ours share it). See replacedKernels below.

import '@tensorflow/tfjs-backend-wasm'; // registers the wasm backend and its kernels first
import { getKernel, registerKernel, util } from '@tensorflow/tfjs-core';
import type { KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { conv2DInfo, convAttrs, pool2DInfo } from './conv-info';
import { WASM, WasmKernelReplacements, callKernel, wasmKernelConfig } from './registry';
import type { OurKernel, WasmKernelArgs as RegistryKernelArgs } from './registry';

type ExplicitPadding = [[number, number], [number, number], [number, number], [number, number]];

/** Kernel inputs by name; the engine passes every declared input, so entries are present. */
type KernelInputs = Record<string, TensorInfo>;

type WasmKernelArgs = RegistryKernelArgs<TensorInfo>;

/** Runs one of the wasm backend's registered kernels directly (no engine bookkeeping, no tape). */
function runWasmKernel(
  kernelName: string,
  backend: BackendWasm,
  inputs: KernelInputs,
  attrs: NamedAttrMap = {},
): TensorInfo {
  const config = getKernel(kernelName, WASM);
  if (config == null) {
    throw new Error(`wasm backend has no ${kernelName} kernel`);
  }
  const result = config.kernelFunc({ inputs, backend, attrs } as unknown as Parameters<KernelFunc>[0]);
  return Array.isArray(result) ? result[0] : result;
}

/** Frees intermediates created inside a kernel (decrements the refcount; reshapes share data). */
function disposeAll(backend: BackendWasm, tensors: TensorInfo[]): void {
  for (const tensor of tensors) {
    backend.disposeData(tensor.dataId);
  }
}

function transpose(backend: BackendWasm, x: TensorInfo, perm: number[]): TensorInfo {
  return runWasmKernel('Transpose', backend, { x }, { perm });
}

function reshape(backend: BackendWasm, x: TensorInfo, shape: number[]): TensorInfo {
  return runWasmKernel('Reshape', backend, { x }, { shape });
}

function padWithZeros(backend: BackendWasm, x: TensorInfo, paddings: Array<[number, number]>): TensorInfo {
  return runWasmKernel('PadV2', backend, { x }, { paddings, constantValue: 0 });
}

function slice(backend: BackendWasm, x: TensorInfo, begin: number[], size: number[]): TensorInfo {
  return runWasmKernel('Slice', backend, { x }, { begin, size });
}

function assertFloat32(kernelName: string, ...tensors: TensorInfo[]): void {
  for (const tensor of tensors) {
    if (tensor.dtype !== 'float32') {
      throw new Error(`${kernelName} on wasm supports float32 only, got ${tensor.dtype}`);
    }
  }
}

function assertNoDilation(kernelName: string, dilations: unknown): void {
  if (dilations == null) return;
  const values = Array.isArray(dilations) ? dilations : [dilations];
  if (values.some((value) => value !== 1)) {
    throw new Error(`${kernelName} on wasm: dilations > 1 are not supported (got ${String(dilations)})`);
  }
}

// ---------------------------------------------------------------------------------------------
// Conv2DBackpropFilter
//
// dW[kh, kw, ci, co] = sum over b, y, x of X[b, y*s + kh - padTop, x*s + kw - padLeft, ci] * dY[b, y, x, co]
//
// Read this as a convolution in which the batch axis b is the thing being reduced (the
// "channels"), the output-pixel axes (y, x) are the "filter taps", and (kh, kw) are the output
// pixels:
//   input   X^T  = transpose(X,  [3, 1, 2, 0])  -> [ci, H, W, b]     (batch of ci images, b channels)
//   filter  dY^T = transpose(dY, [1, 2, 0, 3])  -> [OH, OW, b, co]
//   output       = conv2d(X^T, dY^T, stride 1, dilation s)  -> [ci, KH, KW, co]
// The conv's stride becomes this conv's dilation (filter tap y reads input row y*s + kh). The
// forward padding is reproduced with explicit top/left padding; bottom/right padding is whatever
// makes the output exactly KH x KW (when it would be negative, the extra output rows are sliced off).
// A final small transpose gives [KH, KW, ci, co]. All heavy work runs in XNNPACK.
function conv2dBackpropFilter({ inputs, backend, attrs }: WasmKernelArgs): TensorInfo {
  const { x, dy } = inputs;
  const { filterShape } = convAttrs(attrs);
  assertFloat32('Conv2DBackpropFilter', x, dy);
  const convInfo = conv2DInfo(x.shape, filterShape, attrs);
  if (convInfo.dataFormat !== 'channelsLast') {
    throw new Error("Conv2DBackpropFilter on wasm supports dataFormat 'NHWC' only");
  }
  const { inHeight, inWidth, outHeight, outWidth, filterHeight, filterWidth, strideHeight, strideWidth } = convInfo;
  const padTop = convInfo.padInfo.top;
  const padLeft = convInfo.padInfo.left;
  const wantedBottom = filterHeight + (outHeight - 1) * strideHeight - inHeight - padTop;
  const wantedRight = filterWidth + (outWidth - 1) * strideWidth - inWidth - padLeft;

  const xT = transpose(backend, x, [3, 1, 2, 0]);
  const dyT = transpose(backend, dy, [1, 2, 0, 3]);
  const convPadding: ExplicitPadding = [
    [0, 0],
    [padTop, Math.max(0, wantedBottom)],
    [padLeft, Math.max(0, wantedRight)],
    [0, 0],
  ];
  let gradient = runWasmKernel(
    'Conv2D',
    backend,
    { x: xT, filter: dyT },
    {
      strides: [1, 1],
      dilations: [strideHeight, strideWidth],
      pad: convPadding,
      dataFormat: 'NHWC',
    },
  );
  disposeAll(backend, [xT, dyT]);
  // [ci, KH', KW', co]: crop to [ci, KH, KW, co] if bottom/right padding would have been negative.
  if (gradient.shape[1] !== filterHeight || gradient.shape[2] !== filterWidth) {
    const cropped = slice(backend, gradient, [0, 0, 0, 0], [gradient.shape[0], filterHeight, filterWidth, gradient.shape[3]]);
    disposeAll(backend, [gradient]);
    gradient = cropped;
  }
  const result = transpose(backend, gradient, [1, 2, 0, 3]);
  disposeAll(backend, [gradient]);
  return result;
}

// ---------------------------------------------------------------------------------------------
// Transposed convolution as a stride-1 convolution (shared by Conv2DBackpropInput and
// DepthwiseConv2dNativeBackpropInput).
//
// dX[b, i, j, :] = sum over (y, x, kh, kw) with y*s + kh - padTop = i, x*s + kw - padLeft = j of
//                  dY[b, y, x, :] * W[kh, kw, :, :]
// Insert s-1 zeros between the rows/columns of dY ("dilate" it): dYd[y*s] = dY[y]. Then
//   dX[i] = sum_kh dYd[i + padTop - kh] W[kh] = sum_k' dYd[i + padTop - (KH-1) + k'] W[KH-1-k']
// which is an ordinary stride-1 correlation of dYd, padded by KH-1-padTop on top, with the
// filter flipped in both spatial axes. The bottom padding makes the output exactly H rows.
// Zero-dilating is a PadV2 on dY viewed as [b, OH, 1, OW, 1, c] -> [b, OH, s, OW, s, c].
interface TransposedConvGeometry {
  batchSize: number;
  inHeight: number;
  inWidth: number;
  outHeight: number;
  outWidth: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  padTop: number;
  padLeft: number;
}

/**
 * Returns dy zero-dilated and padded so that a stride-1 'valid' convolution with the flipped
 * filter yields exactly inHeight x inWidth, or null when the geometry needs negative top/left
 * padding (padding larger than the filter, only possible with explicit padding).
 */
function dilateAndPadForTransposedConv(
  backend: BackendWasm,
  dy: TensorInfo,
  geometry: TransposedConvGeometry,
): TensorInfo | null {
  const { batchSize, inHeight, inWidth, outHeight, outWidth, filterHeight, filterWidth, strideHeight, strideWidth, padTop, padLeft } =
    geometry;
  const channels = dy.shape[3];
  const top = filterHeight - 1 - padTop;
  const left = filterWidth - 1 - padLeft;
  if (top < 0 || left < 0) return null;
  const intermediates: TensorInfo[] = [];
  let current = dy;
  let dilatedHeight = outHeight;
  let dilatedWidth = outWidth;
  if (strideHeight > 1 || strideWidth > 1) {
    const sixD = reshape(backend, dy, [batchSize, outHeight, 1, outWidth, 1, channels]);
    const spread = padWithZeros(backend, sixD, [
      [0, 0],
      [0, 0],
      [0, strideHeight - 1],
      [0, 0],
      [0, strideWidth - 1],
      [0, 0],
    ]);
    dilatedHeight = outHeight * strideHeight;
    dilatedWidth = outWidth * strideWidth;
    current = reshape(backend, spread, [batchSize, dilatedHeight, dilatedWidth, channels]);
    intermediates.push(sixD, spread, current);
  }
  // Rows needed in total: inHeight + filterHeight - 1 (a 'valid' correlation then gives inHeight).
  let bottom = inHeight + filterHeight - 1 - top - dilatedHeight;
  let right = inWidth + filterWidth - 1 - left - dilatedWidth;
  if (bottom < 0 || right < 0) {
    // The trailing zero rows/columns from dilation (or unused dy rows) reach beyond: crop them.
    const keepHeight = dilatedHeight + Math.min(0, bottom);
    const keepWidth = dilatedWidth + Math.min(0, right);
    const cropped = slice(backend, current, [0, 0, 0, 0], [batchSize, keepHeight, keepWidth, channels]);
    intermediates.push(cropped);
    current = cropped;
    bottom = Math.max(0, bottom);
    right = Math.max(0, right);
  }
  const padded = padWithZeros(backend, current, [
    [0, 0],
    [top, bottom],
    [left, right],
    [0, 0],
  ]);
  disposeAll(backend, intermediates);
  return padded;
}

/** Flips a [KH, KW, ...] filter in both spatial axes. */
function flipSpatially(backend: BackendWasm, filter: TensorInfo): TensorInfo {
  return runWasmKernel('Reverse', backend, { x: filter }, { dims: [0, 1] });
}

function conv2dBackpropInput(args: WasmKernelArgs): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { dy, filter } = inputs;
  const convInfo = conv2DInfo(convAttrs(attrs).inputShape, filter.shape, attrs);
  const fallback = (): TensorInfo => replacements.runFallback('Conv2DBackpropInput', args);
  if (convInfo.dataFormat !== 'channelsLast' || dy.dtype !== 'float32' || filter.dtype !== 'float32') {
    return fallback();
  }
  const padded = dilateAndPadForTransposedConv(backend, dy, {
    ...convInfo,
    padTop: convInfo.padInfo.top,
    padLeft: convInfo.padInfo.left,
  });
  if (padded == null) return fallback();
  // Filter [KH, KW, ci, co] -> flipped, channels swapped: [KH, KW, co, ci].
  const flipped = flipSpatially(backend, filter);
  const flippedSwapped = transpose(backend, flipped, [0, 1, 3, 2]);
  const result = runWasmKernel(
    'Conv2D',
    backend,
    { x: padded, filter: flippedSwapped },
    { strides: [1, 1], dilations: [1, 1], pad: 'valid', dataFormat: 'NHWC' },
  );
  disposeAll(backend, [padded, flipped, flippedSwapped]);
  return result;
}

// ---------------------------------------------------------------------------------------------
// DepthwiseConv2dNativeBackpropInput
//
// Filter [KH, KW, C, M]; dy has C*M channels, channel c*M + q coming from input channel c.
// dX[.., c] = sum_q transposedConv(dy[.., c*M+q], W[.., c, q]). With the filter viewed as
// [KH, KW, C*M, 1] this is a depthwise (multiplier 1) transposed conv over C*M channels, followed
// by summing each group of M adjacent channels.
function depthwiseConv2dBackpropInput({ inputs, backend, attrs }: WasmKernelArgs): TensorInfo {
  const { dy, filter } = inputs;
  const { dilations, inputShape } = convAttrs(attrs);
  assertFloat32('DepthwiseConv2dNativeBackpropInput', dy, filter);
  assertNoDilation('DepthwiseConv2dNativeBackpropInput', dilations);
  const convInfo = conv2DInfo(inputShape, filter.shape, attrs, { depthwise: true });
  const [filterHeight, filterWidth, inChannels, multiplier] = filter.shape;
  const padded = dilateAndPadForTransposedConv(backend, dy, {
    ...convInfo,
    padTop: convInfo.padInfo.top,
    padLeft: convInfo.padInfo.left,
  });
  if (padded == null) {
    throw new Error('DepthwiseConv2dNativeBackpropInput on wasm: padding larger than the filter is not supported');
  }
  const flipped = flipSpatially(backend, filter);
  const perChannelFilter = reshape(backend, flipped, [filterHeight, filterWidth, inChannels * multiplier, 1]);
  const perChannelGradient = runWasmKernel(
    'DepthwiseConv2dNative',
    backend,
    { x: padded, filter: perChannelFilter },
    { strides: [1, 1], dilations: [1, 1], pad: 'valid' },
  );
  disposeAll(backend, [padded, flipped, perChannelFilter]);
  if (multiplier === 1) return perChannelGradient;
  const [batchSize, height, width] = perChannelGradient.shape;
  const grouped = reshape(backend, perChannelGradient, [batchSize, height, width, inChannels, multiplier]);
  const result = runWasmKernel('Sum', backend, { x: grouped }, { axis: [4], keepDims: false });
  disposeAll(backend, [perChannelGradient, grouped]);
  return result;
}

// ---------------------------------------------------------------------------------------------
// DepthwiseConv2dNativeBackpropFilter
//
// dW[kh, kw, c, q] = sum over b, y, x of X[b, y*s + kh - padTop, x*s + kw - padLeft, c] * dY[b, y, x, c*M + q]
// A per-channel reduction over batch and space, which no XNNPACK kernel exposed by the backend
// computes without C-fold waste. Depthwise convs are rare in our model families, so this is a
// direct loop over the wasm heap, ordered so that the innermost loop walks contiguous channels.
function depthwiseConv2dBackpropFilter({ inputs, backend, attrs }: WasmKernelArgs): TensorInfo {
  const { x, dy } = inputs;
  const { dilations, filterShape } = convAttrs(attrs);
  assertFloat32('DepthwiseConv2dNativeBackpropFilter', x, dy);
  assertNoDilation('DepthwiseConv2dNativeBackpropFilter', dilations);
  const convInfo = conv2DInfo(x.shape, filterShape, attrs, { depthwise: true });
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, filterHeight, filterWidth, strideHeight, strideWidth } =
    convInfo;
  const multiplier = filterShape[3];
  const outChannels = inChannels * multiplier;
  const padTop = convInfo.padInfo.top;
  const padLeft = convInfo.padInfo.left;

  const out = backend.makeOutput(filterShape, 'float32');
  // Views are taken after makeOutput: allocation may grow (and so replace) the heap buffer.
  const xValues = backend.typedArrayFromHeap(x) as Float32Array;
  const dyValues = backend.typedArrayFromHeap(dy) as Float32Array;
  const gradient = backend.typedArrayFromHeap(out) as Float32Array;
  gradient.fill(0);
  const accumulator = new Float64Array(gradient.length);
  const xRowStride = inWidth * inChannels;
  const xBatchStride = inHeight * xRowStride;
  for (let b = 0; b < batchSize; b++) {
    for (let y = 0; y < outHeight; y++) {
      for (let xo = 0; xo < outWidth; xo++) {
        const dyOffset = ((b * outHeight + y) * outWidth + xo) * outChannels;
        for (let kh = 0; kh < filterHeight; kh++) {
          const inRow = y * strideHeight + kh - padTop;
          if (inRow < 0 || inRow >= inHeight) continue;
          for (let kw = 0; kw < filterWidth; kw++) {
            const inCol = xo * strideWidth + kw - padLeft;
            if (inCol < 0 || inCol >= inWidth) continue;
            const xOffset = b * xBatchStride + inRow * xRowStride + inCol * inChannels;
            const gradientOffset = (kh * filterWidth + kw) * outChannels;
            if (multiplier === 1) {
              for (let c = 0; c < inChannels; c++) {
                accumulator[gradientOffset + c] += xValues[xOffset + c] * dyValues[dyOffset + c];
              }
            } else {
              for (let c = 0; c < inChannels; c++) {
                const xValue = xValues[xOffset + c];
                const base = c * multiplier;
                for (let q = 0; q < multiplier; q++) {
                  accumulator[gradientOffset + base + q] += xValue * dyValues[dyOffset + base + q];
                }
              }
            }
          }
        }
      }
    }
  }
  gradient.set(accumulator);
  return out;
}

// ---------------------------------------------------------------------------------------------
// UnsortedSegmentSum (the gradient of gather, e.g. of embedding lookups)
//
// out[segmentIds[i], ...] += x[i, ...]; segmentIds' shape is a prefix of x's shape; ids outside
// [0, numSegments) are dropped, as on the cpu backend. A single pass, O(size of x).
function unsortedSegmentSum({ inputs, backend, attrs }: WasmKernelArgs): TensorInfo {
  const { x, segmentIds } = inputs;
  const numSegments = attrs.numSegments as number;
  if (x.dtype !== 'float32' && x.dtype !== 'int32') {
    throw new Error(`UnsortedSegmentSum on wasm supports float32 and int32, got ${x.dtype}`);
  }
  const idCount = util.sizeFromShape(segmentIds.shape);
  const rowSize = idCount === 0 ? 0 : util.sizeFromShape(x.shape) / idCount;
  const outShape = [numSegments, ...x.shape.slice(segmentIds.shape.length)];
  const out = backend.makeOutput(outShape, x.dtype);
  const xValues = backend.typedArrayFromHeap(x);
  const ids = backend.typedArrayFromHeap(segmentIds);
  const outValues = backend.typedArrayFromHeap(out);
  outValues.fill(0);
  for (let i = 0; i < idCount; i++) {
    const segment = ids[i];
    if (segment < 0 || segment >= numSegments) continue;
    const source = i * rowSize;
    const target = segment * rowSize;
    for (let k = 0; k < rowSize; k++) {
      outValues[target + k] += xValues[source + k];
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// MaxPoolGrad (replaces the backend's own, which is wrong for windows whose values are all
// negative: its running maximum starts at the smallest *positive* float, so such windows send
// their gradient to the first pixel instead of the maximum. It also breaks ties towards the last
// maximum while the cpu backend picks the first.)
//
// dx[argmax of each pooling window] += dy[window]; the first maximum wins, as on the cpu backend.
// One pass over the windows with the innermost loop over contiguous channels.
function maxPoolGrad({ inputs, backend, attrs }: WasmKernelArgs): TensorInfo {
  const { dy, input } = inputs;
  assertFloat32('MaxPoolGrad', dy, input);
  const poolInfo = pool2DInfo(input.shape, attrs);
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, strideHeight, strideWidth } = poolInfo;
  const { effectiveFilterHeight, effectiveFilterWidth, dilationHeight, dilationWidth } = poolInfo;
  const padTop = poolInfo.padInfo.top;
  const padLeft = poolInfo.padInfo.left;

  const dx = backend.makeOutput(input.shape, 'float32');
  const xValues = backend.typedArrayFromHeap(input) as Float32Array;
  const dyValues = backend.typedArrayFromHeap(dy) as Float32Array;
  const dxValues = backend.typedArrayFromHeap(dx) as Float32Array;
  dxValues.fill(0);
  const bestValue = new Float32Array(inChannels);
  const bestIndex = new Int32Array(inChannels);
  for (let b = 0; b < batchSize; b++) {
    for (let oy = 0; oy < outHeight; oy++) {
      const rowStart = oy * strideHeight - padTop;
      for (let ox = 0; ox < outWidth; ox++) {
        const colStart = ox * strideWidth - padLeft;
        bestValue.fill(Number.NEGATIVE_INFINITY);
        bestIndex.fill(-1);
        for (let fy = 0; fy < effectiveFilterHeight; fy += dilationHeight) {
          const row = rowStart + fy;
          if (row < 0 || row >= inHeight) continue;
          for (let fx = 0; fx < effectiveFilterWidth; fx += dilationWidth) {
            const col = colStart + fx;
            if (col < 0 || col >= inWidth) continue;
            const pixelOffset = ((b * inHeight + row) * inWidth + col) * inChannels;
            for (let c = 0; c < inChannels; c++) {
              const value = xValues[pixelOffset + c];
              if (value > bestValue[c]) {
                bestValue[c] = value;
                bestIndex[c] = pixelOffset + c;
              }
            }
          }
        }
        const dyOffset = ((b * outHeight + oy) * outWidth + ox) * inChannels;
        for (let c = 0; c < inChannels; c++) {
          if (bestIndex[c] >= 0) dxValues[bestIndex[c]] += dyValues[dyOffset + c];
        }
      }
    }
  }
  return dx;
}

// ---------------------------------------------------------------------------------------------
// BatchMatMul (replaces the backend's own for transposed operands)
//
// The backend sends a matmul to XNNPACK only when neither operand is transposed and both have a
// batch of 1; everything else runs a scalar blocked loop, several times slower. Dense-layer
// gradients are exactly such products (dW = x^T dy, dx = dy W^T), so we transpose the operand
// explicitly (one cheap memory pass) and hand the plain product to the original kernel, which
// then takes the XNNPACK path. Batched products (attention) go to the original unchanged, as do
// non-float32 ones.

function batchMatMul(args: WasmKernelArgs): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { a, b } = inputs;
  const transposeA = Boolean(attrs.transposeA);
  const transposeB = Boolean(attrs.transposeB);
  const original = replacements.fallback('BatchMatMul');
  if (original == null) throw new Error('BatchMatMul: no original kernel');
  const batchA = util.sizeFromShape(a.shape.slice(0, -2));
  const batchB = util.sizeFromShape(b.shape.slice(0, -2));
  if ((!transposeA && !transposeB) || batchA !== 1 || batchB !== 1 || a.dtype !== 'float32' || b.dtype !== 'float32') {
    return callKernel(original, args);
  }
  const intermediates: TensorInfo[] = [];
  const asMatrix = (x: TensorInfo, transposed: boolean): TensorInfo => {
    const rows = x.shape[x.shape.length - 2];
    const columns = x.shape[x.shape.length - 1];
    const matrix = reshape(backend, x, [rows, columns]);
    intermediates.push(matrix);
    if (!transposed) return matrix;
    const result = transpose(backend, matrix, [1, 0]);
    intermediates.push(result);
    return result;
  };
  const plainA = asMatrix(a, transposeA);
  const plainB = asMatrix(b, transposeB);
  const product = callKernel(original, { inputs: { a: plainA, b: plainB }, backend, attrs: { transposeA: false, transposeB: false } });
  disposeAll(backend, intermediates);
  // Same output shape as the original kernel would give: broadcast batch dims + [M, N].
  const batchShape = a.shape.length >= b.shape.length ? a.shape.slice(0, -2) : b.shape.slice(0, -2);
  const outShape = [...batchShape, product.shape[product.shape.length - 2], product.shape[product.shape.length - 1]];
  const result = reshape(backend, product, outShape);
  disposeAll(backend, [product]);
  return result;
}

// ---------------------------------------------------------------------------------------------
// Identity and same-dtype Cast (replace the backend's own, which copy the data)
//
// TF.js clones every tensor it saves for the backward pass through the Identity kernel (engine
// clone): a resnet training step runs ~600 of them, each a full copy on wasm. Tensors are
// immutable, so the copy can share the data and count one more reference, as the cpu backend's
// Identity and the wasm backend's own Reshape do.

function shareData(backend: BackendWasm, x: TensorInfo): TensorInfo {
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

function identity(args: WasmKernelArgs): TensorInfo {
  const { x } = args.inputs;
  if (x.dtype === 'string') return replacements.runFallback('Identity', args);
  return shareData(args.backend, x);
}

function cast(args: WasmKernelArgs): TensorInfo {
  const { x } = args.inputs;
  if (x.dtype === 'string' || args.attrs.dtype !== x.dtype) return replacements.runFallback('Cast', args);
  return shareData(args.backend, x);
}

// ---------------------------------------------------------------------------------------------
// Registration

const missingKernels: Array<OurKernel<WasmKernelArgs>> = [
  { kernelName: 'Conv2DBackpropFilter', kernelFunc: conv2dBackpropFilter },
  { kernelName: 'DepthwiseConv2dNativeBackpropInput', kernelFunc: depthwiseConv2dBackpropInput },
  { kernelName: 'DepthwiseConv2dNativeBackpropFilter', kernelFunc: depthwiseConv2dBackpropFilter },
  { kernelName: 'UnsortedSegmentSum', kernelFunc: unsortedSegmentSum },
];

/** Kernels that exist on wasm but are slow there; replaced, keeping the original as fallback. */
const replacedKernels: Array<OurKernel<WasmKernelArgs>> = [
  { kernelName: 'Conv2DBackpropInput', kernelFunc: conv2dBackpropInput },
  { kernelName: 'MaxPoolGrad', kernelFunc: maxPoolGrad },
  { kernelName: 'BatchMatMul', kernelFunc: batchMatMul },
  { kernelName: 'Identity', kernelFunc: identity },
  { kernelName: 'Cast', kernelFunc: cast },
];
const replacements = new WasmKernelReplacements(replacedKernels);
const registeredByUs: string[] = [];

/**
 * Registers, for the 'wasm' backend, the kernels it lacks for training conv nets, depthwise convs
 * and embeddings, plus faster replacements of slow ones. Returns the names of the kernels this
 * module has registered (the same list on every call: it is idempotent). Call it once at startup,
 * before or after tf.setBackend('wasm').
 */
export function registerMissingWasmKernels(): string[] {
  for (const { kernelName, kernelFunc } of missingKernels) {
    if (getKernel(kernelName, WASM) != null) continue; // ours already, or a future TF.js provides it
    registerKernel(wasmKernelConfig(kernelName, kernelFunc));
    registeredByUs.push(kernelName);
  }
  for (const kernel of replacedKernels) {
    // Registered even where the backend has none (then without a fallback).
    if (replacements.install(kernel, 'register') === 'registered') registeredByUs.push(kernel.kernelName);
  }
  return [...registeredByUs];
}
