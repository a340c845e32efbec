//! Paired comparison across seeds: mean difference and a two-sided paired Student t-test.
//!
//! The t CDF is computed through the regularized incomplete beta function
//! (Numerical Recipes §6.4: Lentz's continued fraction), so no statistics crate is needed.

/// The outcome of comparing a method with the reference on the seeds both have.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PairedTest {
    /// Number of seeds present for both.
    pub n: usize,
    /// Mean of `method - reference` over those seeds.
    pub mean_diff: f64,
    /// The t statistic (`None` with fewer than two pairs).
    pub t: Option<f64>,
    /// Two-sided p-value (`None` with fewer than two pairs).
    pub p: Option<f64>,
}

/// Paired t-test of `a - b` on equal-length paired samples.
///
/// With zero spread of the differences the test degenerates: p is 1 when they are all zero and 0
/// otherwise.
pub fn paired_t_test(a: &[f64], b: &[f64]) -> PairedTest {
    assert_eq!(a.len(), b.len(), "paired samples must have equal length");
    let n = a.len();
    let diffs: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    let mean_diff = if n == 0 { f64::NAN } else { diffs.iter().sum::<f64>() / n as f64 };
    if n < 2 {
        return PairedTest { n, mean_diff, t: None, p: None };
    }
    let var = diffs.iter().map(|d| (d - mean_diff).powi(2)).sum::<f64>() / (n - 1) as f64;
    let se = (var / n as f64).sqrt();
    // Differences equal up to rounding (0.74 - 0.80 vs 0.76 - 0.82) have no real spread.
    let magnitude = a.iter().chain(b).fold(0.0f64, |m, v| m.max(v.abs()));
    if se <= 1e-12 * magnitude {
        let (t, p) = if mean_diff == 0.0 { (0.0, 1.0) } else { (f64::INFINITY.copysign(mean_diff), 0.0) };
        return PairedTest { n, mean_diff, t: Some(t), p: Some(p) };
    }
    let t = mean_diff / se;
    PairedTest { n, mean_diff, t: Some(t), p: Some(student_t_two_sided_p(t, (n - 1) as f64)) }
}

/// Two-sided p-value `P(|T| >= |t|)` of Student's t with `df` degrees of freedom.
pub fn student_t_two_sided_p(t: f64, df: f64) -> f64 {
    if t.is_infinite() {
        return 0.0;
    }
    regularized_incomplete_beta(df / (df + t * t), df / 2.0, 0.5).clamp(0.0, 1.0)
}

/// The regularized incomplete beta function `I_x(a, b)`.
pub fn regularized_incomplete_beta(x: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    // The continued fraction converges fast for x < (a + 1) / (a + b + 2); use the symmetry
    // I_x(a, b) = 1 - I_{1-x}(b, a) on the other side.
    if x < (a + 1.0) / (a + b + 2.0) {
        ln_front.exp() * beta_continued_fraction(x, a, b) / a
    } else {
        1.0 - ln_front.exp() * beta_continued_fraction(1.0 - x, b, a) / b
    }
}

fn beta_continued_fraction(x: f64, a: f64, b: f64) -> f64 {
    const TINY: f64 = 1e-300;
    const EPS: f64 = 1e-15;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..=300 {
        let m = f64::from(m);
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        d = if d.abs() < TINY { 1.0 / TINY } else { 1.0 / d };
        c = 1.0 + aa / c;
        if c.abs() < TINY {
            c = TINY;
        }
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        d = if d.abs() < TINY { 1.0 / TINY } else { 1.0 / d };
        c = 1.0 + aa / c;
        if c.abs() < TINY {
            c = TINY;
        }
        let delta = d * c;
        h *= delta;
        if (delta - 1.0).abs() < EPS {
            break;
        }
    }
    h
}

/// `ln Γ(x)` for `x > 0` (Lanczos approximation, g = 7, n = 9; ~15 significant digits).
fn ln_gamma(x: f64) -> f64 {
    const COEFFICIENTS: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x) Γ(1 - x) = π / sin(πx).
        return (std::f64::consts::PI / (std::f64::consts::PI * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let t = x + 7.5;
    let series = COEFFICIENTS[1..].iter().enumerate().fold(COEFFICIENTS[0], |s, (i, c)| s + c / (x + i as f64 + 1.0));
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + series.ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() < tol
    }

    #[test]
    fn ln_gamma_matches_factorials() {
        assert!(close(ln_gamma(1.0), 0.0, 1e-13));
        assert!(close(ln_gamma(5.0), 24f64.ln(), 1e-12));
        assert!(close(ln_gamma(0.5), std::f64::consts::PI.sqrt().ln(), 1e-12));
    }

    #[test]
    fn t_with_one_df_is_cauchy() {
        // P(|T| >= 1) = 1/2 for the Cauchy distribution.
        assert!(close(student_t_two_sided_p(1.0, 1.0), 0.5, 1e-12));
    }

    #[test]
    fn t_p_values_match_tables() {
        // Critical values of Student's t: two-sided 5% at df = 10 is 2.228139; 1% at df = 4 is 4.604095.
        assert!(close(student_t_two_sided_p(2.228_139, 10.0), 0.05, 1e-6));
        assert!(close(student_t_two_sided_p(-4.604_095, 4.0), 0.01, 1e-6));
        // scipy.stats.t.sf(2.0, 5) * 2 = 0.101939
        assert!(close(student_t_two_sided_p(2.0, 5.0), 0.101_939, 1e-6));
        assert!(close(student_t_two_sided_p(0.0, 7.0), 1.0, 1e-12));
    }

    #[test]
    fn paired_t_test_on_hand_computed_example() {
        // diffs = [0.02, 0.04, 0.03]: mean 0.03, sd 0.01, se = 0.01/sqrt(3), t = 3*sqrt(3) = 5.196152.
        let test = paired_t_test(&[0.82, 0.84, 0.83], &[0.80, 0.80, 0.80]);
        assert_eq!(test.n, 3);
        assert!(close(test.mean_diff, 0.03, 1e-12));
        assert!(close(test.t.unwrap(), 27f64.sqrt(), 1e-9));
        // scipy.stats.ttest_rel([.82,.84,.83],[.8,.8,.8]).pvalue = 0.035098
        assert!(close(test.p.unwrap(), 0.035_098, 1e-5), "{:?}", test.p);
    }

    #[test]
    fn paired_t_test_needs_two_pairs() {
        let test = paired_t_test(&[0.9], &[0.8]);
        assert_eq!((test.n, test.t, test.p), (1, None, None));
    }
}
