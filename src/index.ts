/**
 * hfpl public API. Grouped, explicit exports: engine, data, models, losses, train, infer,
 * eval, viz, in pipeline order.
 */

// Errors
export { HfplError, isHfplError, type HfplErrorCode } from './errors.js';

// Engine
export { initEngine, engineInfo, describeEngine, ensureEngine, type EngineOptions, type EngineInfo, type BackendName } from './engine/init.js';
export { Rng } from './engine/random.js';

// Engine: wasm training kernels, gradients, fused batch norm, benchmark network
export {
  registerWasmTrainingKernels, replaceKernel, conv2dBackpropInputWasm, conv2dBackpropFilterWasm,
  depthwiseBackpropInputWasm, depthwiseBackpropFilterWasm, unsortedSegmentSumWasm,
  batchNormTrainKernel, batchNormTrainGradKernel, BATCH_NORM_TRAIN, BATCH_NORM_TRAIN_GRAD,
} from './engine/wasm-kernels/register.js';
export { batchNormTrainForward, batchNormTrainBackward } from './engine/wasm-kernels/batch-norm.js';
export {
  registerTrainingGradients, conv2dGradConfig, batchNormTrainGradConfig, expandFilter, kernelSupportsDilations,
  coreGradientConfigs, registerCoreGradients,
} from './engine/gradients/register.js';
export { batchNormTrain, BATCH_NORM_TRAIN_KERNEL, type BatchNormTrainResult } from './engine/ops/batch-norm.js';
export {
  BenchmarkNet, trainBenchmarkNet, type BenchmarkNetOptions, type TrainBenchmarkOptions, type TrainBenchmarkResult,
} from './models/benchmark-net.js';

// Data: files (label PNGs, images, .npy, atomic writes) and progress reporting
export { readLabelPng, writeLabelPng, decodeLabelPng, encodeLabelPng, type LabelMap } from './data/label-png.js';
export { readRgbImage, encodeJpeg, encodeRgbPng } from './data/image-io.js';
export { VOC_CLASSES, VOID_LABEL, vocColorMap } from './data/voc-classes.js';
export type { SampleRecord, DatasetSplit, RgbImage, LabelsFile } from './data/types.js';
export { encodeNpy, decodeNpy, type NpyArray, type NpyData } from './util/npy.js';
export { writeFileAtomic, writeFileAtomicSync } from './util/atomic-write.js';
export { createReporter, silentReporter, BarReporter, JsonlWriter, type ProgressReporter, type ProgressEvent } from './util/progress.js';

// Data: VOC and COCO
export { readVocSplit, labelsFromMask, vocListPath, type VocReadOptions, type VocLabelSource } from './data/voc.js';
export { labelsFromXml, parseVocXml, type VocXmlObject } from './data/voc-xml.js';
export { buildVocLabels, type VocLabelsOptions } from './data/voc-labels.js';
export { readLabelsFile, writeLabelsFile } from './data/labels-file.js';
export { loadSample, readMask, checkMaskValues, guardSample, toBadSample, BadInputError, type LoadSampleOptions, type LoadedSample, type BadSample, type BadSampleHandler } from './data/sample.js';
export { readCocoInstances, annotationRle, cocoSemanticMask, cocoAreaChecks, summariseAreaChecks, type CocoInstances, type CocoImage, type CocoAnnotation, type AreaCheck, type AreaAgreement } from './data/coco.js';
export { rleArea, rleDecode, rleEncode, rleFromCounts, rleFromString, rleToString, rlePaint, rleUnion, type CocoRle } from './data/coco-rle.js';
export { rleFromPolygon } from './data/polygon.js';
export { exportCocoSplit, cocoImagesDir, type CocoExportOptions, type CocoExportResult } from './data/coco-export.js';

// Data: synthetic benchmark and input pipeline
export { renderSynthSample, type SynthSample, type SynthObject } from './data/synth/render.js';
export { generateSynthDataset, type SynthDatasetOptions, type SynthDatasetResult, type SynthManifest, type SynthBench, type SynthCommonOptions } from './data/synth/generate.js';
export { resolveSynthParams, synthClassNames, synthSampleId, synthSampleSeed, DEFAULT_SYNTH_PARAMS, type SynthParams, type SynthSplit } from './data/synth/params.js';
export { SYNTH_PATTERNS, markInk } from './data/synth/patterns.js';
export { renderSynthV2Sample, type SynthV2Sample, type SynthV2Object } from './data/synth/v2/render.js';
export { resolveSynthV2Params, synthV2ClassNames, DEFAULT_SYNTH_V2_PARAMS, type SynthV2Params } from './data/synth/v2/params.js';
export { SPECIES, type Species, type ShapeFamily, type TextureKind } from './data/synth/v2/species.js';
export { synthStats, v1StatsSample, v2StatsSample, colourEdges, maskContours, BODY_FEATURES, type SynthStats, type SynthStatsOptions, type StatsSample, type StatsObject } from './data/synth/stats.js';
export { previewGrid } from './data/synth/v2/preview.js';
export {
  augmentImage, augmentPixels, drawAugmentParams, resolveAugmentOptions, DEFAULT_AUGMENT_OPTIONS, IMAGENET_MEAN, IMAGENET_STD,
  type AugmentOptions, type AugmentParams, type AugmentedImage, type AugmentTarget, type ColorJitterOptions,
} from './data/augment.js';
export { BatchLoader, disposeBatch, unnormalizeImages, type Batch, type BatchLoaderOptions } from './data/loader.js';

// Models
export { ParamStore, initTensor, type Param, type ParamRole, type ParamKind, type InitKind } from './models/params.js';
export { Conv2d, BatchNorm2d, applyBnUpdates, type BnUpdate, type ForwardContext, type Conv2dOptions } from './models/layers.js';
export {
  ResidualBackbone, backbonePresets, resolveBackboneConfig, backboneConfigSchema, stageConfigSchema,
  type BackboneConfig, type BackboneConfigInput, type StageConfig, type BackboneOutput,
} from './models/backbone.js';
export { CamNet, gapLogits, backboneLayout, camModelConfigSchema, type CamModelConfig, type CamModelConfigInput, type CamForward } from './models/cam-net.js';
export { SeamNet, pcmInputCam, type SeamForward } from './models/seam-net.js';
export { detach } from './models/detach.js';
export {
  saveWeights, readWeights, assignWeights, loadModelWeights, describeReport,
  type WeightEntry, type LoadedWeights, type WeightsReport, type AssignOptions,
} from './models/weights-io.js';
export { loadCamModel, type CamModelMeta } from './models/load-model.js';

// Weight files of other frameworks (PyTorch .pth zip/legacy, safetensors, MXNet .params); `readWeights`
// of src/weights is exported as `readWeightFile` (the TF.js reader above keeps its name)
export {
  readWeights as readWeightFile, readStateDict, stripPrefix, writeSafetensors, convertMxnetToTorch, mxnetToTorchName, detectFormat,
  type WeightFile, type WeightTensor, type WeightDtype, type WeightData, type WeightFormat, type StateDict, type TensorToWrite,
  type MxnetConversion, type ReadWeightsOptions, type StripPrefixOptions,
} from './weights/index.js';
export { convertWeights, describeConversion, type ConvertWeightsOptions, type ConvertWeightsReport } from './weights/convert.js';

// The reference networks in the reference layouts (exact eval forward passes; src/models/reference)
export { Resnet38d, Resnet38dNet, RESNET38D_BLOCKS, RESNET38D_FULL_WIDTHS, resnet38dWidthsFromShapes, type Resnet38dWidths, type Resnet38dFeatures } from './models/reference/resnet38d.js';
export { RefSeamNet, pcmRefine, SEAM_FULL_HEAD, type SeamHeadWidths, type RefSeamOutput } from './models/reference/seam.js';
export { RefAffinityNet, indicesOfPairs, affinityRadius, denseAffinity, AFF_FULL_HEAD, type PairIndices, type RefAffOutput } from './models/reference/affinity.js';
export { RefDeeplabLargeFov, LARGEFOV_FULL_HEAD, type LargeFovWidths } from './models/reference/deeplab-largefov.js';
export { Resnet50, RefResnet50Cam, RESNET50_FULL_WIDTHS, RESNET50_CAM_STRIDES, type Resnet50Widths } from './models/reference/resnet50.js';
export { RefParams, type RefParam } from './models/reference/ref-params.js';
export { loadReferenceTensors, referenceStateDict, tfjsToReference, describeRefReport, type RefLoadReport, type RefLoadOptions, type RefTensor } from './models/reference/load-reference.js';
export {
  REFERENCE_ARCHS, REFERENCE_ARCH_INFO, parseReferenceArch, detectReferenceArch, buildReferenceNet, loadReferenceNet, loadReferenceFromStateDict, loadReferenceStateDict,
  type ReferenceArch, type ReferenceNet, type LoadedReferenceNet,
} from './models/reference/architectures.js';
export { convertReferenceWeights, type ConvertReferenceOptions, type ConvertReferenceResult } from './models/reference/convert.js';
export { readPretrainedWeights, referenceToProjectName } from './models/reference/project-names.js';
export { resizeBicubicPil, roundHalfEven } from './data/pil-resize.js';
export { referenceCams, normaliseReference, REFERENCE_CAM_SCALES, type ReferenceCams, type ReferenceCamOptions } from './infer/reference-cam.js';
export { runInferCamReference, INFER_CAM_ARCHS, type InferCamReferenceOptions, type InferCamReferenceResult } from './infer/reference-cam-run.js';

// Losses
export { multilabelSoftMarginLoss } from './losses/multilabel-soft-margin.js';
export { maxNorm, fslTargetFromCam } from './losses/max-norm.js';
export { featureSimilarityLoss, fslWindowRadius, type FeatureSimilarityOptions } from './losses/feature-similarity.js';
export { importanceSamplingLoss, type ImportanceSamplingOptions } from './losses/importance-sampling.js';
export {
  equivariantRegularizationLoss, equivariantCrossRegularizationLoss, adaptiveMinPoolingLoss, type EquivariantCrossOptions,
} from './losses/seam.js';
export { affinityPairLoss } from './losses/affinity.js';

// Training
export { trainCamConfigSchema, trainCamPresets, resolveTrainCamConfig, readConfigFile, mergeConfig, type TrainCamConfig } from './train/config.js';
export { PolySgd, paramGroups, polyLr, type ParamGroup, type SgdOptions } from './train/sgd.js';
export { camStepLoss, classificationLoss, fslTerm, type StepInputs, type StepLoss } from './train/cam-step.js';
export { seamStepLoss } from './train/seam-step.js';
export { saveCheckpoint, loadLatestCheckpoint, listCheckpointSteps, isRunFinished, type TrainState, type Checkpoint } from './train/checkpoint.js';
export { runTrainCam, islSeed, type TrainCamOptions, type TrainCamResult } from './train/train-cam.js';
export { runDemo, demoTrainConfig, DEMO_PLANS, DEMO_VARIANTS, DEMO_VARIANT_LABELS, type DemoPlan, type DemoRow, type DemoResult, type DemoVariant } from './train/demo-run.js';

// Inference
export { inferCams, normaliseCams, DEFAULT_CAM_SCALES, type CamInferenceOptions, type ImageCams } from './infer/cam-inference.js';
export { pseudoLabelFromCams, type BackgroundScore } from './infer/pseudo-labels.js';
export { averagePrecision, classificationMetrics, type ClassificationMetrics } from './infer/cam-scores.js';
export { runInferCam, type InferCamOptions, type InferCamResult } from './infer/cam-run.js';

// Refinement: dense CRF and random walk
export { PermutohedralLattice } from './infer/crf/permutohedral.js';
export {
  denseCrf, crfLabels, argmaxLabels, resolveDenseCrfOptions, clearDenseCrfCache, denseCrfOptionsSchema, segmentationCrfOptions,
  type DenseCrfOptions, type ResolvedDenseCrfOptions,
} from './infer/crf/dense-crf.js';
export { crfProbabilities, camCrfLabels } from './infer/crf/cam-crf.js';
export { runCrf, type CrfRunOptions, type CrfRunResult } from './infer/crf/run-crf.js';
export {
  affinityTransition, randomWalk, randomWalkCams, withBackground, randomWalkOptionsSchema, type AffinityTransition, type RandomWalkOptions,
} from './infer/random-walk.js';

// Refinement and final segmentation
export {
  pairOffsets, pairWindow, confidentLabels, resizeLabelsNearest, extractPairLabels, countPairs, IGNORE_LABEL, type PairLabels,
} from './infer/aff-labels.js';
export {
  AffinityNet, pairAffinities, loadAffinityNet, affinityNetConfigSchema, type AffinityNetConfig, type AffinityNetConfigInput, type AffinityModelMeta,
} from './models/affinity-net.js';
export { DeepLab, segmentationLoss, loadDeepLab, deepLabConfigSchema, type DeepLabConfig, type DeepLabConfigInput, type DeepLabModelMeta } from './models/deeplab.js';
export { LabelBatchLoader, augmentLabels, type LabelSample, type LabelBatch, type LabelBatchOptions } from './train/label-batches.js';
export { runLabelTraining, labelTrainBaseSchema, type LabelTrainBase, type LabelTrainResult, type LabelTrainOptions } from './train/label-train.js';
export { runTrainAff, resolveTrainAffConfig, trainAffPresets, affinityBatchLoss, type TrainAffConfig, type TrainAffOptions } from './train/train-aff.js';
export { runTrainSeg, resolveTrainSegConfig, trainSegPresets, segmentationBatchLoss, type TrainSegConfig, type TrainSegOptions } from './train/train-seg.js';
export { randomWalkLabels, runInferAff, imageTensor, type RandomWalkLabelOptions, type InferAffOptions, type InferAffResult } from './infer/infer-aff.js';
export { segmentImage, segmentationProbs, runInferSeg, DEFAULT_SEG_SCALES, type SegmentOptions, type InferSegOptions } from './infer/infer-seg.js';

// Pipeline
export { runPipeline, resolvePipelineOptions, pipelineOptionsSchema, type PipelineOptions, type PipelineOptionsInput, type PipelineResult, type StageReport, type PipelineHooks } from './pipeline/run-pipeline.js';
export { PIPELINE_STAGES, stageDir, isStageDone, evaluateStage, type PipelineStage, type StageMetrics } from './pipeline/stage-io.js';
export { runFullStages, formatFullStagesTable, FULL_STAGE_ROWS, type FullStagesOptions, type FullStagesResult, type FullStageRow, type FullStageName } from './pipeline/full-stages.js';

// Evaluation
export { ConfusionAccumulator, iouFromCounts, type PairNames } from './eval/confusion.js';
export { ContourAccumulator, contourCounts, contourFFromCounts, contourTolerance, type ContourCounts, type ContourOptions } from './eval/contour-f.js';
export { evaluateSegmentation, SegmentationEvaluator, type EvaluateOptions, type SegmentationMetrics, type SegmentationPair } from './eval/evaluate.js';
export { readCamFile, writeCamFile, camsToLabelMap, type CamFile } from './eval/cam-files.js';
export { sweepCamThresholds, CamThresholdSweep, DEFAULT_CAM_THRESHOLDS, type SweepOptions, type SweepResult, type CamGtPair } from './eval/threshold-sweep.js';
export { runEval, readIdList, type EvalRunOptions, type EvalRunResult } from './eval/run-eval.js';

// Visualisation
export { jet, heatmapOverlay, maxOverMaps, colorizeLabels } from './viz/colormap.js';
export { composeGrid, writeRgbPng } from './viz/panels.js';
export { formatDemoTable, formatDemoRows, summariseDemo, meanStd, writeDemoPanels, writeDemoReport, type DemoSummaryRow } from './viz/demo-report.js';
export { writeReportHtml, type ReportHtmlResult } from './viz/report-html/write-report.js';
export { gatherReport, type GatherOptions } from './viz/report-html/gather.js';
export { renderReportPage } from './viz/report-html/page.js';
export { pairedDifferences, pairedInterval, imageMiou, type PairedDifference } from './viz/report-html/stats.js';
export type { ReportData, NumberTable, TableCell, TrainingGroup, SweepGroup, PerClassGroup, BrowserImage, BrowserCell } from './viz/report-html/types.js';

// Scale-out (issue 15): one per-image runner over worker threads or a BullMQ queue.
export { runImages, defaultWorkers, startQueueWorker, type RunImagesOptions, type RunImagesResult, type ScaleOptions } from './scale/run-images.js';
export type { QueueWorkerOptions } from './scale/queue.js';
export { createTask, TASK_NAMES, type ImageItem, type ImageTask, type TaskName } from './scale/tasks.js';
export { parseQueueUrl, type QueueTarget } from './scale/queue-url.js';
export { defaultTrainingThreads } from './engine/init.js';
