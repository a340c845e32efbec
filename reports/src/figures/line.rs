//! Line panels (curves over epochs) laid out two per row, with a shared legend below.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::legend::{self, Swatch};
use super::style::{PANEL_HEIGHT, PANEL_WIDTH, Scale, color};
use super::{LegendEntry, LineFigure, Panel};

/// Height of the figure title strip in SVG pixels.
pub(super) const TITLE_HEIGHT: u32 = 40;

fn grid(panels: usize) -> (usize, usize) {
    let cols = if panels <= 1 { 1 } else { 2 };
    (panels.max(1).div_ceil(cols), cols)
}

/// Size of the figure in SVG pixels.
pub(super) fn size(figure: &LineFigure) -> (u32, u32) {
    let (rows, cols) = grid(figure.panels.len());
    let width = PANEL_WIDTH * cols as u32;
    (width, TITLE_HEIGHT + PANEL_HEIGHT * rows as u32 + legend::height(&figure.legend, width))
}

/// Draws the title, every panel and the legend.
pub(super) fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    figure: &LineFigure,
    scale: Scale,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let (rows, cols) = grid(figure.panels.len());
    let (title_area, rest) = root.split_vertically(scale.px(TITLE_HEIGHT.into()));
    draw_title(&title_area, &figure.title, scale)?;
    let (panel_area, legend_area) = rest.split_vertically(scale.px(f64::from(PANEL_HEIGHT) * rows as f64));
    for (panel, area) in figure.panels.iter().zip(panel_area.split_evenly((rows, cols))) {
        draw_panel(&area, panel, &figure.legend, scale)?;
    }
    legend::draw(&legend_area, &figure.legend, Swatch::Line, scale)
}

/// Draws a bold title centred in `area`.
pub(super) fn draw_title<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    scale: Scale,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let (w, h) = area.dim_in_pixel();
    let mut font = scale.title_font();
    // Shrink a title that would not fit (long suite or dataset names) instead of clipping it.
    let available = f64::from(w) - f64::from(scale.px(16.0));
    let (text_width, _) = area.estimate_text_size(title, &font)?;
    if f64::from(text_width) > available {
        let size = (font.font.get_size() * available / f64::from(text_width)).max(font.font.get_size() * 0.5);
        font = font.font.resize(size).into();
    }
    let font = font.pos(Pos::new(HPos::Center, VPos::Center));
    area.draw_text(title, &font, (w as i32 / 2, h as i32 / 2))
}

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &Panel,
    legend: &[LegendEntry],
    scale: Scale,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let points = || panel.series.iter().flat_map(|s| s.points.iter());
    let (mut x0, mut x1) = padded_range(points().map(|p| p.0), 0.0, (0.0, 1.0));
    if panel.steps {
        (x0, x1) = (x0 - 0.5, x1 + 0.5);
    }
    let (y0, y1) = panel.y_range.unwrap_or_else(|| padded_range(points().map(|p| p.1), 0.06, (0.0, 1.0)));
    let y_decimals = decimals_for((y1 - y0) / 6.0);

    let mut builder = ChartBuilder::on(area);
    builder
        .margin(scale.px(10.0))
        .margin_right(scale.px(22.0))
        .x_label_area_size(scale.px(46.0))
        .y_label_area_size(scale.px(64.0));
    if !panel.title.is_empty() {
        builder.caption(&panel.title, scale.label_font());
    }
    let mut chart = builder.build_cartesian_2d(x0..x1, y0..y1)?;
    let x_ticks = ((x1 - x0).round() as usize + 1).clamp(2, 10);
    let x_format = |x: &f64| if (x - x.round()).abs() < 1e-6 { format!("{}", x.round() as i64) } else { String::new() };
    let y_format = |y: &f64| format!("{y:.y_decimals$}");
    chart
        .configure_mesh()
        .x_desc(&panel.x_label)
        .y_desc(&panel.y_label)
        .x_labels(x_ticks)
        .y_labels(6)
        .x_label_formatter(&x_format)
        .y_label_formatter(&y_format)
        .label_style(scale.tick_font())
        .axis_desc_style(scale.label_font())
        .axis_style(BLACK.stroke_width(scale.px(1.0)))
        .bold_line_style(RGBColor(220, 220, 220).stroke_width(scale.px(1.0)))
        .light_line_style(TRANSPARENT)
        .draw()?;

    if panel.series.iter().all(|s| s.points.is_empty()) {
        let (w, h) = area.dim_in_pixel();
        let font = scale.label_font().pos(Pos::new(HPos::Center, VPos::Center)).color(&RGBColor(120, 120, 120));
        area.draw_text("no data", &font, (w as i32 / 2, h as i32 / 2))?;
        return Ok(());
    }
    for series in &panel.series {
        let c = color(legend[series.legend].color);
        let line: Vec<(f64, f64)> = if panel.steps {
            series.points.iter().flat_map(|&(x, y)| [(x - 0.5, y), (x + 0.5, y)]).collect()
        } else {
            series.points.clone()
        };
        chart.draw_series(LineSeries::new(line, c.stroke_width(scale.px(2.0))))?;
        chart.draw_series(series.points.iter().map(|&p| Circle::new(p, scale.px(3.0), c.filled())))?;
    }
    Ok(())
}

/// The data range padded by `pad` of its span (or `fallback` for no data, ±0.5 for one value).
fn padded_range(values: impl Iterator<Item = f64>, pad: f64, fallback: (f64, f64)) -> (f64, f64) {
    let (lo, hi) =
        values.filter(|v| v.is_finite()).fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if !lo.is_finite() {
        return fallback;
    }
    if hi - lo < 1e-12 {
        return (lo - 0.5, hi + 0.5);
    }
    let margin = (hi - lo) * pad;
    (lo - margin, hi + margin)
}

/// Decimals that tell tick labels `step` apart.
pub(super) fn decimals_for(step: f64) -> usize {
    if step.is_finite() && step > 0.0 { (-step.log10().floor()).clamp(0.0, 6.0) as usize } else { 2 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panels_are_laid_out_two_per_row() {
        assert_eq!(grid(1), (1, 1));
        assert_eq!(grid(3), (2, 2));
        assert_eq!(grid(5), (3, 2));
    }

    #[test]
    fn tick_decimals_follow_the_step() {
        assert_eq!(decimals_for(10.0), 0);
        assert_eq!(decimals_for(0.18), 1);
        assert_eq!(decimals_for(0.008), 3);
    }

    #[test]
    fn single_value_range_is_widened() {
        assert_eq!(padded_range([2.0, 2.0].into_iter(), 0.1, (0.0, 1.0)), (1.5, 2.5));
        assert_eq!(padded_range(std::iter::empty(), 0.1, (0.0, 1.0)), (0.0, 1.0));
    }
}
