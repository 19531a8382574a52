//! The training loop: parameters in a burn `Module`, the negative
//! log-likelihood built from one custom operation per mechanism and burn's
//! own tensor operations, and burn's optimisers.

use std::sync::Arc;

use burn::module::{Module, Param};
use burn::optim::{
    grad_clipping::GradientClippingConfig, momentum::MomentumConfig, AdamConfig, GradientsParams,
    SgdConfig,
};
use burn::tensor::{Device, Tensor, TensorData};
use rand::seq::SliceRandom;
use rand::SeedableRng;

use super::config::{FitConfig, FitError, FitReport, Optimizer, Schedule, StopReason};
use super::op::mechanism;
use crate::data::Dataset;
use crate::scm::{Intervention, MechanismKernel, Noise, Scm};

const HALF_LN_2PI: f32 = 0.918_938_5;

/// The learnable values of a model: one flat parameter vector per
/// mechanism, and the log noise scales.
#[derive(Module, Debug)]
pub struct ScmParams {
    /// Each variable's mechanism parameters, in topological order.
    pub mechanisms: Vec<Param<Tensor<1>>>,
    /// `ln sigma` of each variable, in topological order.
    pub log_scales: Param<Tensor<1>>,
}

impl ScmParams {
    /// The model's current values on `device`.
    pub fn from_scm(scm: &Scm, device: &Device) -> Self {
        let mechanisms = scm
            .nodes()
            .iter()
            .map(|node| {
                let values = node.mechanism.params().to_vec();
                let len = values.len();
                Param::from_tensor(Tensor::from_data(TensorData::new(values, [len]), device))
            })
            .collect();
        let scales: Vec<f32> = scm
            .nodes()
            .iter()
            .map(|node| match node.noise {
                Noise::Gaussian { log_scale } => log_scale,
            })
            .collect();
        let len = scales.len();
        ScmParams {
            mechanisms,
            log_scales: Param::from_tensor(Tensor::from_data(
                TensorData::new(scales, [len]),
                device,
            )),
        }
    }

    /// Writes the values back into the model.
    pub fn write_to(&self, scm: &mut Scm) {
        let scales = read(&self.log_scales.val());
        for ((node, param), log_scale) in
            scm.nodes_mut().iter_mut().zip(&self.mechanisms).zip(scales)
        {
            let values = read(&param.val());
            node.mechanism
                .set_params(&values)
                .expect("parameter tensors keep their length");
            node.noise = Noise::Gaussian { log_scale };
        }
    }
}

fn read(tensor: &Tensor<1>) -> Vec<f32> {
    tensor
        .clone()
        .into_data()
        .try_to_vec::<f32>()
        .expect("parameters are f32")
}

/// The data of one step: each variable's column and its parents' columns.
#[derive(Clone)]
struct Batch {
    columns: Vec<Tensor<1>>,
    parents: Vec<Option<Tensor<2>>>,
    rows: usize,
}

impl Batch {
    fn new(scm: &Scm, columns: &[Vec<f32>], rows: Option<&[usize]>, device: &Device) -> Batch {
        let pick = |column: &[f32]| -> Vec<f32> {
            match rows {
                Some(rows) => rows.iter().map(|&r| column[r]).collect(),
                None => column.to_vec(),
            }
        };
        let n = rows.map_or(columns.first().map_or(0, Vec::len), <[usize]>::len);
        let tensor1 = |values: Vec<f32>| Tensor::from_data(TensorData::new(values, [n]), device);
        let picked: Vec<Vec<f32>> = columns.iter().map(|c| pick(c)).collect();
        let parents = scm
            .nodes()
            .iter()
            .map(|node| {
                if node.parents.is_empty() {
                    return None;
                }
                let mut flat = Vec::with_capacity(node.parents.len() * n);
                for &p in &node.parents {
                    flat.extend_from_slice(&picked[p]);
                }
                Some(Tensor::from_data(
                    TensorData::new(flat, [node.parents.len(), n]),
                    device,
                ))
            })
            .collect();
        Batch {
            columns: picked.into_iter().map(tensor1).collect(),
            parents,
            rows: n,
        }
    }
}

/// The mean negative log-likelihood per row of `batch` (a `[1]` tensor).
fn batch_loss(params: &ScmParams, scm: &Scm, batch: &Batch) -> Tensor<1> {
    let log_scales = params.log_scales.val();
    let mut total: Option<Tensor<1>> = None;
    for (index, node) in scm.nodes().iter().enumerate() {
        if matches!(node.intervention, Some(Intervention::Set(_))) {
            continue;
        }
        let kernel: &Arc<dyn MechanismKernel> = match &node.intervention {
            Some(Intervention::Replace(replacement)) => replacement.kernel(),
            _ => node.mechanism.kernel(),
        };
        let theta = params.mechanisms[index].val();
        let mut mean = match &batch.parents[index] {
            Some(parents) => mechanism(theta, parents.clone(), kernel),
            None => theta.expand([batch.rows]),
        };
        if let Some(Intervention::Shift(delta)) = &node.intervention {
            mean = mean.add_scalar(*delta as f32);
        }
        let log_scale = log_scales.clone().slice([index..index + 1]);
        let z = (batch.columns[index].clone() - mean)
            * log_scale.clone().neg().exp().expand([batch.rows]);
        let nll = log_scale + z.square().mean().mul_scalar(0.5).add_scalar(HALF_LN_2PI);
        total = Some(match total {
            Some(total) => total + nll,
            None => nll,
        });
    }
    total.unwrap_or_else(|| Tensor::zeros([1], &log_scales.device()))
}

fn optimizer(config: &FitConfig) -> burn::optim::ModuleOptimizer {
    let clipping = config.clip_norm.map(GradientClippingConfig::Norm);
    match config.optimizer {
        Optimizer::Adam {
            beta1,
            beta2,
            epsilon,
        } => AdamConfig::new()
            .with_beta_1(beta1)
            .with_beta_2(beta2)
            .with_epsilon(epsilon)
            .with_grad_clipping(clipping)
            .init(),
        Optimizer::Sgd { momentum } => {
            let momentum = (momentum > 0.0).then(|| {
                MomentumConfig::new()
                    .with_momentum(momentum)
                    .with_dampening(0.0)
            });
            SgdConfig::new()
                .with_momentum(momentum)
                .with_gradient_clipping(clipping)
                .init()
        }
    }
}

fn learning_rate(config: &FitConfig, step: usize) -> f64 {
    match config.schedule {
        Schedule::Constant => config.learning_rate,
        Schedule::Cosine { min_rate } => {
            let progress = (step as f64 / config.steps.max(1) as f64).min(1.0);
            min_rate
                + 0.5
                    * (config.learning_rate - min_rate)
                    * (1.0 + (std::f64::consts::PI * progress).cos())
        }
    }
}

fn snapshot(params: &ScmParams) -> (Vec<Vec<f32>>, Vec<f32>) {
    (
        params.mechanisms.iter().map(|p| read(&p.val())).collect(),
        read(&params.log_scales.val()),
    )
}

fn restore(scm: &mut Scm, (mechanisms, scales): &(Vec<Vec<f32>>, Vec<f32>)) {
    for ((node, values), &log_scale) in scm.nodes_mut().iter_mut().zip(mechanisms).zip(scales) {
        node.mechanism
            .set_params(values)
            .expect("snapshots keep their length");
        node.noise = Noise::Gaussian { log_scale };
    }
}

impl Scm {
    /// Fits the mechanisms' parameters and the noise scales to `data` by
    /// gradient descent on the negative log-likelihood, with burn's
    /// autodiff and optimisers on the CPU (`Flex`) backend.
    ///
    /// A non-finite loss stops the fit with [`FitError::NonFinite`] and
    /// leaves the model at its last parameters with a finite loss.
    pub fn fit(&mut self, data: &Dataset, config: &FitConfig) -> Result<FitReport, FitError> {
        let device = Device::flex().autodiff();
        self.fit_on(data, config, &device)
    }

    /// [`Scm::fit`] on a given autodiff device.
    pub fn fit_on(
        &mut self,
        data: &Dataset,
        config: &FitConfig,
        device: &Device,
    ) -> Result<FitReport, FitError> {
        if config.steps == 0 {
            return Err(FitError::Config("`steps` must be at least 1".into()));
        }
        if !(config.learning_rate > 0.0 && config.learning_rate.is_finite()) {
            return Err(FitError::Config(format!(
                "the learning rate must be positive and finite, got {}",
                config.learning_rate
            )));
        }
        let (train, valid) = if config.validation_fraction > 0.0 {
            let (train, valid) = data.split(config.validation_fraction, config.seed);
            (train, Some(valid))
        } else {
            (data.clone(), None)
        };
        let columns = self.columns_of(&train)?;
        let n = train.n_rows();
        if n == 0 {
            return Err(FitError::Config("the data have no rows".into()));
        }
        let full = Batch::new(self, &columns, None, device);
        let valid_batch = match &valid {
            Some(valid) if valid.n_rows() > 0 => {
                Some(Batch::new(self, &self.columns_of(valid)?, None, device))
            }
            _ => None,
        };
        let mut params = ScmParams::from_scm(self, device);
        let mut optim = optimizer(config);
        let mut rng = rand::rngs::StdRng::seed_from_u64(config.seed);
        let mut order: Vec<usize> = (0..n).collect();
        let mut cursor = n;
        let mut losses = Vec::with_capacity(config.steps);
        let mut validation = Vec::new();
        let mut best: Option<(f64, (Vec<Vec<f32>>, Vec<f32>))> = None;
        let mut since_best = 0usize;
        let mut last_good = (0usize, f64::NAN, snapshot(&params));
        let mut stop = StopReason::Completed;
        for step in 1..=config.steps {
            let batch = match config.batch_size {
                Some(size) if size < n => {
                    if cursor + size > n {
                        order.shuffle(&mut rng);
                        cursor = 0;
                    }
                    let rows = &order[cursor..cursor + size];
                    cursor += size;
                    Batch::new(self, &columns, Some(rows), device)
                }
                _ => full.clone(),
            };
            let loss = batch_loss(&params, self, &batch);
            let value = f64::from(loss.clone().into_scalar::<f32>());
            if !value.is_finite() {
                restore(self, &last_good.2);
                return Err(FitError::NonFinite {
                    step,
                    loss: value,
                    last_good_step: last_good.0,
                    last_good_loss: last_good.1,
                });
            }
            last_good = (step - 1, value, snapshot(&params));
            losses.push(value);
            let grads = GradientsParams::from_grads(loss.backward(), &params);
            params = optim.step(learning_rate(config, step - 1), params, grads);

            if let Some(valid_batch) = &valid_batch {
                if step % config.eval_every == 0 || step == config.steps {
                    let value =
                        f64::from(batch_loss(&params, self, valid_batch).into_scalar::<f32>());
                    validation.push((step, value));
                    match &best {
                        Some((best_value, _)) if value >= *best_value => since_best += 1,
                        _ => {
                            best = Some((value, snapshot(&params)));
                            since_best = 0;
                        }
                    }
                    if config
                        .patience
                        .is_some_and(|patience| since_best >= patience)
                    {
                        stop = StopReason::EarlyStopped { step };
                        break;
                    }
                }
            }
        }
        params.write_to(self);
        if let (StopReason::EarlyStopped { .. }, Some((_, best))) = (&stop, &best) {
            restore(self, best);
        }
        // Check the final parameters too.
        let final_loss = f64::from(
            batch_loss(&ScmParams::from_scm(self, device), self, &full).into_scalar::<f32>(),
        );
        if !final_loss.is_finite() {
            restore(self, &last_good.2);
            return Err(FitError::NonFinite {
                step: config.steps + 1,
                loss: final_loss,
                last_good_step: last_good.0,
                last_good_loss: last_good.1,
            });
        }
        Ok(FitReport {
            losses,
            final_validation_loss: validation.last().map(|(_, v)| *v),
            validation,
            stop,
        })
    }
}
