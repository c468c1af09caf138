//! Training and evaluating the DMV-JND models on CIFAR-10: the four CAM classifiers
//! ([`train_classifiers`]), DMV-JND-NET with the paper's loss ([`train_dmvjnd`]) and the paper's
//! experiments ([`evaluate`]: RCA per classifier, PSNR, the white-Gaussian-noise control at equal energy,
//! the homogeneous-property test).

use std::time::Instant;

use burn::module::Module;
use burn::nn::loss::{CrossEntropyLoss, CrossEntropyLossConfig};
use burn::optim::decay::WeightDecayConfig;
use burn::optim::{AdamConfig, AdamWConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::activation::softmax;
use burn::tensor::{Device, Int, Tensor, TensorData};
use jnd_model::dmvjnd::{self, CamClassifiers, ClassifierKind, DmvJnd, DmvJndNet, IMAGE_BYTES, PIXELS, SIDE};

use crate::cifar::CifarSet;
use crate::vpjnd::Rng;
use crate::{Error, Result};

/// Small constant of the magnitude loss's denominator (the paper's epsilon).
const MAGNITUDE_EPSILON: f32 = 1e-6;

/// Copies image `i` of `set` into `out`, mirrored left-right when `flip`, shifted by (`dx`, `dy`)
/// with edge replication (0, 0: unshifted): a 32x32 crop of the edge-padded image.
fn push_augmented(out: &mut Vec<u8>, image: &[u8], flip: bool, dx: i32, dy: i32) {
    let side = SIDE as i32;
    for c in 0..3 {
        let plane = &image[c * PIXELS..(c + 1) * PIXELS];
        for y in 0..side {
            let sy = (y + dy).clamp(0, side - 1);
            for x in 0..side {
                let xx = if flip { side - 1 - x } else { x };
                let sx = (xx + dx).clamp(0, side - 1);
                out.push(plane[(sy * side + sx) as usize]);
            }
        }
    }
}

fn shuffled(n: usize, rng: &mut Rng) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        order.swap(i, rng.below(i + 1));
    }
    order
}

/// Cosine decay from `base` to 2 % of it over `total` steps, after a linear warm-up over the first
/// `warmup` steps.
fn cosine_lr(base: f64, step: usize, total: usize, warmup: usize) -> f64 {
    if step < warmup {
        return base * (step + 1) as f64 / warmup as f64;
    }
    let progress = (step - warmup) as f64 / total.saturating_sub(warmup).max(1) as f64;
    base * (0.02 + 0.98 * 0.5 * (1.0 + (std::f64::consts::PI * progress.min(1.0)).cos()))
}

fn labels_tensor(labels: &[usize], device: &Device) -> Tensor<1, Int> {
    let values: Vec<i64> = labels.iter().map(|&l| l as i64).collect();
    Tensor::from_data(TensorData::new(values, [labels.len()]), device)
}

/// Settings of [`train_classifiers`].
#[derive(Debug, Clone)]
pub struct ClassifierConfig {
    /// Passes over the training set (the length of the learning-rate schedule).
    pub epochs: usize,
    /// Images per step.
    pub batch: usize,
    /// Peak AdamW learning rate (linear warm-up over the first epoch, cosine decay to 2 %).
    pub learning_rate: f64,
    /// AdamW's decoupled weight decay.
    pub weight_decay: f32,
    /// Label smoothing of the cross-entropy (0: none).
    pub label_smoothing: f32,
    /// Largest random shift in pixels of the crop augmentation (a 32x32 crop of the image padded by
    /// this much with its edge pixels); 0 turns it off. Flips are always on.
    pub max_shift: usize,
    /// Seed of initialisation, order and augmentation.
    pub seed: u64,
    /// Use only every n-th training image (1: all).
    pub subsample: usize,
    /// Wall-clock budget in seconds: after the first epoch of this run, the schedule is shortened to
    /// the epochs that fit (the cosine still ends at 2 %), so a time-boxed run ends annealed.
    pub deadline: Option<f64>,
    /// Wall-clock budget in seconds of this chunk of a longer run: no epoch starts that would end
    /// after it, and the schedule is kept, so a resumed run continues it.
    pub stop_after: Option<f64>,
    /// Test on every n-th test image only (1: all), to keep CPU chunks short.
    pub test_subsample: usize,
}

impl Default for ClassifierConfig {
    fn default() -> Self {
        Self {
            epochs: 40,
            batch: 128,
            learning_rate: 2e-3,
            weight_decay: 5e-2,
            label_smoothing: 0.1,
            max_shift: 4,
            seed: 11,
            subsample: 1,
            deadline: None,
            stop_after: None,
            test_subsample: 1,
        }
    }
}

/// Where a resumed classifier training starts: the weights and optimiser state of the checkpoint and
/// how many epochs it had completed.
pub struct ClassifierStart {
    /// The checkpoint's weights (burnpack bytes of the classifiers).
    pub weights: Vec<u8>,
    /// The optimiser's state at the checkpoint (AdamW moments), when it was saved.
    pub optimizer: Option<std::path::PathBuf>,
    /// Epochs completed.
    pub epochs_done: usize,
    /// The schedule's length the checkpoint ran under (a deadline may have shortened it).
    pub epochs: usize,
}

/// One epoch of classifier training.
#[derive(Debug, Clone)]
pub struct ClassifierEpoch {
    /// 1-based epoch.
    pub epoch: usize,
    /// The schedule's length in epochs (shortened by a deadline after the first epoch).
    pub epochs: usize,
    /// Mean summed cross-entropy of the four over the epoch.
    pub loss: f64,
    /// Test-set accuracy of each classifier ([`ClassifierKind::ALL`] order).
    pub test_accuracy: [f64; 4],
    /// Seconds since this run started.
    pub seconds: f64,
    /// Learning rate at the epoch's last step.
    pub learning_rate: f64,
}

/// Accuracy of each classifier against the true labels of `set`.
pub fn accuracy(classifiers: &CamClassifiers, set: &CifarSet, device: &Device) -> Result<[f64; 4]> {
    let model = DmvJnd::from_parts(classifiers.clone(), DmvJndNet::new(device), device);
    let predicted = model.classify(&set.images)?;
    Ok(std::array::from_fn(|k| {
        let right = predicted[k].iter().zip(&set.labels).filter(|&(&p, &l)| p == usize::from(l)).count();
        right as f64 / set.len().max(1) as f64
    }))
}

/// The seed of epoch `epoch`'s order and augmentation, so a resumed run sees the same batches as an
/// uninterrupted one.
fn epoch_seed(seed: u64, epoch: usize) -> u64 {
    seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(epoch as u64)
}

/// Trains the four CAM classifiers together (summed cross-entropy; their parameters are disjoint) with
/// AdamW, label smoothing, horizontal flips and random crops of the edge-padded image (shifts up to
/// `max_shift` pixels). `on_epoch` sees each epoch's log, the current weights and the optimiser (to save
/// a checkpoint); `start` resumes from one.
pub fn train_classifiers(
    train: &CifarSet,
    test: &CifarSet,
    config: &ClassifierConfig,
    device: &Device,
    start: Option<ClassifierStart>,
    mut on_epoch: impl FnMut(&ClassifierEpoch, &CamClassifiers, &ModuleOptimizer) -> Result<()>,
) -> Result<CamClassifiers> {
    if train.is_empty() {
        return Err(Error::Insufficient("no training images".into()));
    }
    device.seed(config.seed);
    let train_device = device.clone().autodiff();
    let mut optim = AdamWConfig::new().with_weight_decay(config.weight_decay).init();
    let (mut model, first_epoch, mut epochs) = match start {
        Some(start) => {
            let model = DmvJnd::load_classifiers(&start.weights, &train_device)?;
            if let Some(path) = &start.optimizer {
                optim = optim
                    .load(path)
                    .map_err(|e| Error::Insufficient(format!("optimiser state {}: {e}", path.display())))?;
            }
            (model, start.epochs_done + 1, start.epochs)
        }
        None => (CamClassifiers::new(&train_device), 1, config.epochs),
    };
    let test = &test.every(0, config.test_subsample.max(1));
    let smoothing = (config.label_smoothing > 0.0).then_some(config.label_smoothing);
    let loss_fn = CrossEntropyLossConfig::new().with_smoothing(smoothing).init(&train_device);
    let subset: Vec<usize> = (0..train.len()).step_by(config.subsample.max(1)).collect();
    let batch_size = config.batch.max(1);
    let steps_per_epoch = (subset.len() / batch_size).max(1);
    let shift = config.max_shift as i32;
    let started = Instant::now();
    let mut step = (first_epoch - 1) * steps_per_epoch;
    let mut epoch = first_epoch;
    let planned = epochs;
    while epoch <= epochs {
        let epoch_started = started.elapsed().as_secs_f64();
        let mut rng = Rng::new(epoch_seed(config.seed, epoch));
        let order = shuffled(subset.len(), &mut rng);
        let mut loss_sum = 0.0;
        let mut learning_rate = 0.0;
        for batch in order.chunks_exact(batch_size) {
            let mut pixels = Vec::with_capacity(batch.len() * IMAGE_BYTES);
            let mut labels = Vec::with_capacity(batch.len());
            for &i in batch {
                let index = subset[i];
                let flip = rng.next_u64() & 1 == 1;
                let dx = rng.below(2 * config.max_shift + 1) as i32 - shift;
                let dy = rng.below(2 * config.max_shift + 1) as i32 - shift;
                push_augmented(&mut pixels, train.image(index), flip, dx, dy);
                labels.push(usize::from(train.labels[index]));
            }
            let images = dmvjnd::images_tensor(&pixels, &train_device)?;
            let targets = labels_tensor(&labels, &train_device);
            let mut loss: Option<Tensor<1>> = None;
            for kind in ClassifierKind::ALL {
                let logits = model.forward(kind, images.clone()).logits;
                let term = loss_fn.forward(logits, targets.clone());
                loss = Some(match loss {
                    Some(sum) => sum + term,
                    None => term,
                });
            }
            let Some(loss) = loss else { continue };
            loss_sum += f64::from(loss.clone().into_scalar::<f32>());
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            learning_rate = cosine_lr(config.learning_rate, step, epochs * steps_per_epoch, steps_per_epoch);
            model = optim.step(learning_rate, model, grads);
            step += 1;
        }
        let current = model.valid();
        let log = ClassifierEpoch {
            epoch,
            epochs,
            loss: loss_sum / steps_per_epoch as f64,
            test_accuracy: accuracy(&current, test, device)?,
            seconds: started.elapsed().as_secs_f64(),
            learning_rate,
        };
        on_epoch(&log, &current, &optim)?;
        // What one epoch costs, its test pass and checkpoint included.
        let elapsed = started.elapsed().as_secs_f64();
        let per_epoch = (elapsed - epoch_started).max(1e-9);
        if let Some(budget) = config.deadline
            && epoch < first_epoch + 2
        {
            // The schedule's length from the time the latest epoch took (the first one also compiles
            // the GPU kernels, so it is estimated again after the second).
            let fit = ((budget - elapsed) / per_epoch).floor().max(0.0) as usize;
            epochs = planned.min(epoch + fit).max(epoch);
        }
        if config.stop_after.is_some_and(|budget| elapsed + per_epoch > budget) && epoch < epochs {
            // A chunk of a longer run: stop with the schedule unchanged; `--resume` continues it.
            break;
        }
        epoch += 1;
    }
    Ok(model.valid())
}

/// Settings of [`train_dmvjnd`]; the paper's are Adam, learning rate 1e-5, weight decay 1e-3, batch 50,
/// both loss weights 1, 200 epochs.
#[derive(Debug, Clone)]
pub struct DmvConfig {
    /// Passes over the (subsampled) training set.
    pub epochs: usize,
    /// Images per step.
    pub batch: usize,
    /// Adam learning rate (constant, as in the paper).
    pub learning_rate: f64,
    /// Adam weight decay.
    pub weight_decay: f32,
    /// Weight of the magnitude loss (the paper's alpha).
    pub magnitude_weight: f32,
    /// Weight of the spatial-distribution loss (the paper's beta).
    pub spatial_weight: f32,
    /// Seed.
    pub seed: u64,
    /// Use only every n-th training image (1: all).
    pub subsample: usize,
    /// Wall-clock budget in seconds: no epoch starts that would end after it (judged by the slowest
    /// epoch so far). The learning rate is constant, so a shortened run is a shorter paper run.
    pub deadline: Option<f64>,
}

/// One epoch of DMV-JND-NET training.
#[derive(Debug, Clone, Default)]
pub struct DmvEpoch {
    /// 1-based epoch.
    pub epoch: usize,
    /// Mean total loss.
    pub loss: f64,
    /// Mean summed cross-entropy of the four classifiers.
    pub cross_entropy: f64,
    /// Mean magnitude loss.
    pub magnitude: f64,
    /// Mean spatial-distribution loss.
    pub spatial: f64,
    /// Training RCA over the epoch's batches (before each step), mean of the four.
    pub rca: f64,
    /// Mean |DMV-JND| (normalised units) actually applied, over the epoch.
    pub mean_jnd: f64,
    /// Seconds since training started.
    pub seconds: f64,
}

/// The losses of one batch (tensors on the training device) and the numbers for the log.
struct BatchLoss {
    total: Tensor<1>,
    cross_entropy: f32,
    magnitude: f32,
    spatial: f32,
    agree: usize,
    mean_jnd: f32,
}

fn scalar(t: &Tensor<1>) -> f32 {
    t.clone().into_scalar::<f32>()
}

/// The paper's loss for one batch: cross-entropy of the distorted images' predictions against the
/// classifiers' own labels of the originals (summed over the four), the magnitude loss
/// `|T - A| / (T + eps)` with `T = 1 - mean(CAM)` and `A = mean |JND|` per image, and the spatial loss
/// `<softmax(CAM), |JND|>`. The JND is what actually reaches the image: `clamp(x + jnd) - x`.
#[allow(clippy::too_many_arguments)]
fn batch_loss(
    net: &DmvJndNet,
    classifiers: &CamClassifiers,
    images: Tensor<4>,
    merged_cam: &[f32],
    labels: &[[usize; 4]],
    config: &DmvConfig,
    loss_fn: &CrossEntropyLoss,
    device: &Device,
) -> Result<BatchLoss> {
    let n = labels.len();
    let cam = Tensor::<4>::from_data(TensorData::new(merged_cam.to_vec(), [n, 1, SIDE, SIDE]), device);
    let jnd = net.forward(images.clone(), cam.clone());
    let distorted = (images.clone() + jnd).clamp(-1.0, 1.0);
    let applied = (distorted.clone() - images).abs();
    let mut cross_entropy: Option<Tensor<1>> = None;
    let mut agree = 0;
    for (k, kind) in ClassifierKind::ALL.into_iter().enumerate() {
        let logits = classifiers.forward(kind, distorted.clone()).logits;
        let own: Vec<usize> = labels.iter().map(|l| l[k]).collect();
        let predicted =
            logits.clone().argmax(1).into_data().convert::<i64>().try_into_vec::<i64>().unwrap_or_default();
        agree += predicted.iter().zip(&own).filter(|&(&p, &l)| p == l as i64).count();
        let term = loss_fn.forward(logits, labels_tensor(&own, device));
        cross_entropy = Some(match cross_entropy {
            Some(sum) => sum + term,
            None => term,
        });
    }
    let cross_entropy = cross_entropy.ok_or_else(|| Error::Insufficient("no classifiers".into()))?;
    let target = cam.clone().reshape([n, PIXELS]).mean_dim(1).reshape([n]).neg() + 1.0;
    let actual = applied.clone().reshape([n, 3 * PIXELS]).mean_dim(1).reshape([n]);
    let magnitude = ((target.clone() - actual.clone()).abs() / (target + MAGNITUDE_EPSILON)).mean();
    let weights = softmax(cam.reshape([n, PIXELS]), 1);
    let per_pixel = applied.mean_dim(1).reshape([n, PIXELS]);
    let spatial = (weights * per_pixel).sum_dim(1).reshape([n]).mean();
    let total = cross_entropy.clone()
        + magnitude.clone() * config.magnitude_weight
        + spatial.clone() * config.spatial_weight;
    Ok(BatchLoss {
        cross_entropy: scalar(&cross_entropy),
        magnitude: scalar(&magnitude),
        spatial: scalar(&spatial),
        mean_jnd: scalar(&actual.mean()),
        agree,
        total,
    })
}

/// Trains DMV-JND-NET against frozen classifiers (`classifiers`: burnpack bytes). Each step computes the
/// originals' labels and merged CAM with the classifiers in inference mode, then the paper's loss.
pub fn train_dmvjnd(
    train: &CifarSet,
    classifiers: &[u8],
    config: &DmvConfig,
    init: Option<&[u8]>,
    device: &Device,
    mut on_epoch: impl FnMut(&DmvEpoch, &DmvJnd) -> Result<()>,
) -> Result<DmvJndNet> {
    if train.is_empty() {
        return Err(Error::Insufficient("no training images".into()));
    }
    device.seed(config.seed);
    let train_device = device.clone().autodiff();
    let analyser = DmvJnd::with_classifiers(classifiers, device)?;
    let frozen = DmvJnd::load_classifiers(classifiers, &train_device)?.freeze();
    let mut net = match init {
        Some(bytes) => DmvJnd::load_net(bytes, &train_device)?,
        None => DmvJndNet::new(&train_device),
    };
    let mut optim =
        AdamConfig::new().with_weight_decay(Some(WeightDecayConfig::new(config.weight_decay))).init();
    let loss_fn = CrossEntropyLoss::new(None, &train_device);
    let mut rng = Rng::new(config.seed);
    let subset: Vec<usize> = (0..train.len()).step_by(config.subsample.max(1)).collect();
    let started = Instant::now();
    let mut slowest = 0.0f64;
    for epoch in 1..=config.epochs {
        let elapsed = started.elapsed().as_secs_f64();
        if config.deadline.is_some_and(|budget| epoch > 1 && elapsed + slowest > budget) {
            break;
        }
        let order = shuffled(subset.len(), &mut rng);
        let mut log = DmvEpoch { epoch, ..DmvEpoch::default() };
        let (mut steps, mut seen) = (0usize, 0usize);
        for batch in order.chunks_exact(config.batch.max(1)) {
            let mut pixels = Vec::with_capacity(batch.len() * IMAGE_BYTES);
            for &i in batch {
                push_augmented(&mut pixels, train.image(subset[i]), rng.next_u64() & 1 == 1, 0, 0);
            }
            let analysis = analyser.analyse(&pixels)?;
            let labels: Vec<[usize; 4]> =
                (0..batch.len()).map(|i| std::array::from_fn(|k| analysis.labels[k][i])).collect();
            let images = dmvjnd::images_tensor(&pixels, &train_device)?;
            let loss = batch_loss(
                &net,
                &frozen,
                images,
                &analysis.merged_cam,
                &labels,
                config,
                &loss_fn,
                &train_device,
            )?;
            log.cross_entropy += f64::from(loss.cross_entropy);
            log.magnitude += f64::from(loss.magnitude);
            log.spatial += f64::from(loss.spatial);
            log.mean_jnd += f64::from(loss.mean_jnd);
            log.rca += loss.agree as f64;
            log.loss += f64::from(scalar(&loss.total));
            seen += batch.len();
            steps += 1;
            let grads = GradientsParams::from_grads(loss.total.backward(), &net);
            net = optim.step(config.learning_rate, net, grads);
        }
        let steps_f = steps.max(1) as f64;
        for value in
            [&mut log.loss, &mut log.cross_entropy, &mut log.magnitude, &mut log.spatial, &mut log.mean_jnd]
        {
            *value /= steps_f;
        }
        log.rca /= (seen * 4).max(1) as f64;
        log.seconds = started.elapsed().as_secs_f64();
        slowest = slowest.max(log.seconds - elapsed);
        let current = DmvJnd::from_parts(analyser.classifiers().clone(), net.valid(), device);
        on_epoch(&log, &current)?;
    }
    Ok(net.valid())
}

/// The paper's experiments on one set of images.
#[derive(Debug, Clone, PartialEq)]
pub struct DmvEvaluation {
    /// Images evaluated.
    pub images: usize,
    /// Accuracy of each classifier on the originals against the true labels.
    pub accuracy: [f64; 4],
    /// RCA of each classifier: distorted images classified as the originals were.
    pub rca: [f64; 4],
    /// Mean PSNR (dB) of the DMV-JND-distorted images against the originals (8-bit, per image, averaged).
    pub psnr: f64,
    /// RCA with white Gaussian noise of the same energy (per image) instead of the DMV-JND.
    pub wgn_rca: [f64; 4],
    /// Mean PSNR of the noise-distorted images.
    pub wgn_psnr: f64,
    /// Mean RCA (over the four) with the DMV-JND scaled by k/9, k = 1..8.
    pub homogeneous: Vec<(u32, f64)>,
}

/// Mean of four values.
pub fn mean4(values: &[f64; 4]) -> f64 {
    values.iter().sum::<f64>() / 4.0
}

/// PSNR capped at 100 dB (identical buffers), so means over images stay finite.
fn psnr(a: &[u8], b: &[u8]) -> f64 {
    jnd_model::metrics::psnr_samples(a, b).min(100.0)
}

fn rca(reference: &[Vec<usize>; 4], other: &[Vec<usize>; 4]) -> [f64; 4] {
    std::array::from_fn(|k| {
        let same = reference[k].iter().zip(&other[k]).filter(|(a, b)| a == b).count();
        same as f64 / reference[k].len().max(1) as f64
    })
}

/// Runs the paper's experiments: RCA and PSNR of the DMV-JND-distorted images (8-bit, clamped), the
/// same-energy white-Gaussian-noise control and the homogeneous-property sweep.
pub fn evaluate(model: &DmvJnd, set: &CifarSet, seed: u64) -> Result<DmvEvaluation> {
    let analysis = model.analyse(&set.images)?;
    let truth: Vec<usize> = set.labels.iter().map(|&l| usize::from(l)).collect();
    let accuracy = std::array::from_fn(|k| {
        analysis.labels[k].iter().zip(&truth).filter(|(a, b)| a == b).count() as f64 / set.len().max(1) as f64
    });
    let jnd = model.jnd(&set.images, &analysis.merged_cam)?;
    let distorted = DmvJnd::distort(&set.images, &jnd, 1.0);
    let rca_full = rca(&analysis.labels, &model.classify(&distorted)?);
    let n = set.len();
    let psnr_mean = (0..n)
        .map(|i| {
            psnr(
                &set.images[i * IMAGE_BYTES..(i + 1) * IMAGE_BYTES],
                &distorted[i * IMAGE_BYTES..(i + 1) * IMAGE_BYTES],
            )
        })
        .sum::<f64>()
        / n.max(1) as f64;
    // White Gaussian noise with each image's DMV-JND energy (its 8-bit MSE), clamped like the DMV-JND.
    let mut rng = Rng::new(seed);
    let mut noisy = Vec::with_capacity(set.images.len());
    for i in 0..n {
        let original = &set.images[i * IMAGE_BYTES..(i + 1) * IMAGE_BYTES];
        let mse = original
            .iter()
            .zip(&distorted[i * IMAGE_BYTES..(i + 1) * IMAGE_BYTES])
            .map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2))
            .sum::<f64>()
            / IMAGE_BYTES as f64;
        let sigma = mse.sqrt();
        for &v in original {
            let u1 = rng.unit().max(1e-12);
            let u2 = rng.unit();
            let gauss = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
            noisy.push((f64::from(v) + sigma * gauss).round().clamp(0.0, 255.0) as u8);
        }
    }
    let wgn_rca = rca(&analysis.labels, &model.classify(&noisy)?);
    let wgn_psnr = (0..n)
        .map(|i| {
            psnr(
                &set.images[i * IMAGE_BYTES..(i + 1) * IMAGE_BYTES],
                &noisy[i * IMAGE_BYTES..(i + 1) * IMAGE_BYTES],
            )
        })
        .sum::<f64>()
        / n.max(1) as f64;
    let mut homogeneous = Vec::new();
    for k in 1..=8u32 {
        let scaled = DmvJnd::distort(&set.images, &jnd, k as f32 / 9.0);
        homogeneous.push((k, mean4(&rca(&analysis.labels, &model.classify(&scaled)?))));
    }
    Ok(DmvEvaluation { images: n, accuracy, rca: rca_full, psnr: psnr_mean, wgn_rca, wgn_psnr, homogeneous })
}
