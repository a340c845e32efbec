//! Knowledge-distillation terms shared by G2D, UMT and the analyses (G2D paper section 3.1,
//! Eq. 2-5; specs/methods.md sections 1 and 11).

use tch::{Kind, Reduction, Tensor};

use crate::data::Task;

/// Feature distillation, Eq. 3: mean squared error between a student feature `[B, D]` and the
/// teacher's, averaged over B x D (PyTorch's `MSELoss()` default, as the official code).
pub fn feature_mse(student: &Tensor, teacher: &Tensor) -> Tensor {
    student.mse_loss(&teacher.detach(), Reduction::Mean)
}

/// Logit distillation, Eq. 4: T² · KL(softmax(teacher/T) ‖ softmax(student/T)), summed over
/// classes and averaged over the batch (`kl_div(log_softmax(z/T), softmax(l_t/T), 'batchmean')`).
///
/// For regression the logits are single sigmoid outputs; the term becomes the MSE between the
/// student's and the teacher's sigmoid predictions (a documented choice: a KL over one output
/// is undefined).
pub fn logit_kl(task: Task, student: &Tensor, teacher: &Tensor, temperature: f64) -> Tensor {
    match task {
        Task::Classification { .. } => {
            let t = temperature;
            let log_p = (student / t).log_softmax(-1, Kind::Float);
            let q = (teacher.detach() / t).softmax(-1, Kind::Float);
            let kl = (&q * (q.clamp_min(1e-12).log() - log_p)).sum(Kind::Float) / student.size()[0] as f64;
            kl * (t * t)
        }
        Task::Regression => student.sigmoid().mse_loss(&teacher.detach().sigmoid(), Reduction::Mean),
    }
}

/// Per-sample confidence: the softmax probability of the true class (Eq. 5 before the batch
/// mean). For regression, 1 - |sigmoid(output) - target|.
pub fn true_class_probability(task: Task, logits: &Tensor, targets: &Tensor) -> Tensor {
    match task {
        Task::Classification { .. } => {
            logits.softmax(-1, Kind::Float).gather(1, &targets.to_kind(Kind::Int64).unsqueeze(1), false).squeeze_dim(1)
        }
        Task::Regression => {
            let err = (logits.squeeze_dim(-1).sigmoid() - targets.to_kind(Kind::Float)).abs();
            err.neg() + 1.0
        }
    }
}

/// The confidence score c_m of Eq. 5 as a scalar tensor: the batch mean of
/// [`true_class_probability`] (no device synchronisation).
pub fn confidence_tensor(task: Task, logits: &Tensor, targets: &Tensor) -> Tensor {
    true_class_probability(task, logits, targets).mean(Kind::Float)
}

/// The confidence score c_m of Eq. 5: the batch mean of [`true_class_probability`].
pub fn confidence(task: Task, logits: &Tensor, targets: &Tensor) -> f64 {
    confidence_tensor(task, logits, targets).double_value(&[])
}

/// Mean cosine similarity of student and teacher features as a scalar tensor (paper Fig. 5).
pub fn feature_cosine_tensor(student: &Tensor, teacher: &Tensor) -> Tensor {
    Tensor::cosine_similarity(student, teacher, 1, 1e-8).mean(Kind::Float)
}

/// Mean cosine similarity of student and teacher features (paper Fig. 5).
pub fn feature_cosine(student: &Tensor, teacher: &Tensor) -> f64 {
    feature_cosine_tensor(student, teacher).double_value(&[])
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLS: Task = Task::Classification { classes: 2 };

    fn t(v: &[f32], shape: &[i64]) -> Tensor {
        Tensor::from_slice(v).reshape(shape)
    }

    #[test]
    fn feature_mse_averages_over_batch_and_dimensions() {
        // (1-0)^2 + (2-0)^2 + (0-1)^2 + (0-0)^2 = 6, over 4 entries
        let v = feature_mse(&t(&[1.0, 2.0, 0.0, 0.0], &[2, 2]), &t(&[0.0, 0.0, 1.0, 0.0], &[2, 2]));
        assert!((v.double_value(&[]) - 1.5).abs() < 1e-6);
    }

    #[test]
    fn logit_kl_matches_hand_computed_batchmean_kl() {
        // Sample 1: student logits (0, 0) -> p = (.5, .5); teacher (ln 3, 0) -> q = (.75, .25).
        // KL(q||p) = .75 ln(1.5) + .25 ln(.5) = 0.130812. Sample 2: identical -> 0. Batchmean 0.065406.
        let s = t(&[0.0, 0.0, 1.0, 2.0], &[2, 2]);
        let q = t(&[3f32.ln(), 0.0, 1.0, 2.0], &[2, 2]);
        let kl = logit_kl(CLS, &s, &q, 1.0).double_value(&[]);
        let expect = (0.75 * 1.5f64.ln() + 0.25 * 0.5f64.ln()) / 2.0;
        assert!((kl - expect).abs() < 1e-6, "{kl} vs {expect}");
        // With T = 2 the logits are halved and the result is scaled by 4.
        let kl2 = logit_kl(CLS, &(&s * 2.0), &(&q * 2.0), 2.0).double_value(&[]);
        assert!((kl2 - 4.0 * expect).abs() < 1e-5, "{kl2}");
    }

    #[test]
    fn confidence_is_mean_true_class_probability() {
        // softmax(ln 3, 0) = (.75, .25); targets 0 and 1 -> .75 and .25 -> mean .5
        let l = t(&[3f32.ln(), 0.0, 3f32.ln(), 0.0], &[2, 2]);
        let y = Tensor::from_slice(&[0i64, 1]);
        assert!((confidence(CLS, &l, &y) - 0.5).abs() < 1e-6);
    }

    #[test]
    fn regression_distillation_is_mse_of_sigmoid_outputs() {
        let s = t(&[0.0], &[1, 1]);
        let q = t(&[100.0], &[1, 1]);
        assert!((logit_kl(Task::Regression, &s, &q, 1.0).double_value(&[]) - 0.25).abs() < 1e-6);
    }
}
