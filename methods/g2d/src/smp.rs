//! Sequential Modality Prioritization (G2D paper section 3.3, Eq. 6-8; specs/methods.md
//! section 1), for any number M of modalities.
//!
//! The schedule (tau_1, ..., tau_M) is given as fractions of the run's epochs, so small runs
//! scale: with E_k = E * (tau_1 + ... + tau_k), during E_{k-1} <= epoch < E_k for k <= M-1 only
//! r(k), the k-th least confident modality of the current batch, gets its gradient; from E_{M-1}
//! on every modality trains jointly. The paper's (150, 150) of 300 epochs is (0.5, 0.5), and
//! IEMOCAP's (75, 75, 150) is (0.25, 0.25, 0.5).

use serde::{Deserialize, Serialize};

/// How the non-prioritized modalities are suppressed (paper Table 6).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Suppression {
    /// Coefficient 0: the official SMP.
    Complete,
    /// OGM-GE style coefficient 1 - tanh(alpha_s * rho_j), with rho_j = c_j / c_prioritized.
    Partial,
}

/// The window an epoch falls in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// Exclusive window k (0-based): the (k+1)-th least confident modality is prioritized.
    Exclusive(usize),
    /// The last window: all modalities train jointly.
    Joint,
}

/// The window of `epoch` in a run of `epochs` epochs under fractional schedule `tau` (length M).
pub fn window(tau: &[f64], epoch: usize, epochs: usize) -> Window {
    let total: f64 = tau.iter().sum();
    let mut end = 0.0;
    for (k, t) in tau.iter().enumerate().take(tau.len().saturating_sub(1)) {
        end += t / total.max(f64::MIN_POSITIVE);
        if (epoch as f64) < (end * epochs as f64).round() {
            return Window::Exclusive(k);
        }
    }
    Window::Joint
}

/// Modality indices sorted by ascending confidence; ties keep the lower index first (a
/// deterministic tie-break; the official code raises on an exact tie).
pub fn rank_ascending(confidence: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..confidence.len()).collect();
    order.sort_by(|&a, &b| confidence[a].total_cmp(&confidence[b]).then(a.cmp(&b)));
    order
}

/// Gradient coefficients k_m (Eq. 8) for one batch.
pub fn coefficients(confidence: &[f64], window: Window, suppression: Suppression, partial_alpha: f64) -> Vec<f64> {
    let m = confidence.len();
    match window {
        Window::Joint => vec![1.0; m],
        Window::Exclusive(k) => {
            let order = rank_ascending(confidence);
            let prioritized = order[k.min(m - 1)];
            (0..m)
                .map(|j| {
                    if j == prioritized {
                        1.0
                    } else {
                        match suppression {
                            Suppression::Complete => 0.0,
                            Suppression::Partial => {
                                let rho = confidence[j] / confidence[prioritized].max(1e-12);
                                1.0 - (partial_alpha * rho).tanh()
                            }
                        }
                    }
                })
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smp_prioritizes_least_confident_modality_first_for_two_modalities() {
        let tau = [0.5, 0.5];
        assert_eq!(window(&tau, 0, 10), Window::Exclusive(0));
        assert_eq!(window(&tau, 4, 10), Window::Exclusive(0));
        assert_eq!(window(&tau, 5, 10), Window::Joint);
        assert_eq!(window(&tau, 9, 10), Window::Joint);
        // audio 0.9 confident, visual 0.4: visual (index 1) is prioritized.
        assert_eq!(coefficients(&[0.9, 0.4], Window::Exclusive(0), Suppression::Complete, 0.0), vec![0.0, 1.0]);
        assert_eq!(coefficients(&[0.2, 0.4], Window::Exclusive(0), Suppression::Complete, 0.0), vec![1.0, 0.0]);
        assert_eq!(coefficients(&[0.9, 0.4], Window::Joint, Suppression::Complete, 0.0), vec![1.0, 1.0]);
    }

    #[test]
    fn smp_walks_three_modalities_from_weakest_to_joint() {
        // IEMOCAP (75, 75, 150) of 300 epochs = (0.25, 0.25, 0.5); 8 epochs -> windows 0-1, 2-3, 4-7.
        let tau = [0.25, 0.25, 0.5];
        let w: Vec<Window> = (0..8).map(|e| window(&tau, e, 8)).collect();
        assert_eq!(
            w,
            vec![
                Window::Exclusive(0),
                Window::Exclusive(0),
                Window::Exclusive(1),
                Window::Exclusive(1),
                Window::Joint,
                Window::Joint,
                Window::Joint,
                Window::Joint
            ]
        );
        let c = [0.7, 0.2, 0.5]; // ranking: visual(1) < text(2) < audio(0)
        assert_eq!(coefficients(&c, Window::Exclusive(0), Suppression::Complete, 0.0), vec![0.0, 1.0, 0.0]);
        assert_eq!(coefficients(&c, Window::Exclusive(1), Suppression::Complete, 0.0), vec![0.0, 0.0, 1.0]);
        assert_eq!(coefficients(&c, Window::Joint, Suppression::Complete, 0.0), vec![1.0, 1.0, 1.0]);
    }

    #[test]
    fn no_smp_schedule_is_joint_from_the_start() {
        // Table 7's (0, 150): no exclusive epochs.
        assert_eq!(window(&[0.0, 1.0], 0, 10), Window::Joint);
    }

    #[test]
    fn ties_break_towards_the_lower_modality_index() {
        assert_eq!(rank_ascending(&[0.5, 0.5, 0.1]), vec![2, 0, 1]);
        assert_eq!(coefficients(&[0.5, 0.5], Window::Exclusive(0), Suppression::Complete, 0.0), vec![1.0, 0.0]);
    }

    #[test]
    fn partial_suppression_uses_one_minus_tanh_of_the_confidence_ratio() {
        // visual prioritized (0.4); audio rho = 0.8 / 0.4 = 2; k = 1 - tanh(0.5 * 2) = 1 - tanh(1) = 0.238406
        let k = coefficients(&[0.8, 0.4], Window::Exclusive(0), Suppression::Partial, 0.5);
        assert_eq!(k[1], 1.0);
        assert!((k[0] - (1.0 - 1f64.tanh())).abs() < 1e-12);
        assert!((k[0] - 0.238_405_844).abs() < 1e-8);
    }
}
