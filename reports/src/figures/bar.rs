//! Grouped bar chart with error bars: per-modality and fused test accuracy per method.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::legend::{self, Swatch};
use super::line::{TITLE_HEIGHT, decimals_for, draw_title};
use super::style::{PANEL_HEIGHT, PANEL_WIDTH, Scale, color};
use super::{BarFigure, LegendEntry};

/// Pixels for the rotated y description and tick labels on the left.
const LEFT: f64 = 64.0;
/// Average width of a tick-font glyph in SVG pixels.
const CHAR_WIDTH: f64 = 9.0;

fn group_width(figure: &BarFigure) -> f64 {
    let longest = figure.groups.iter().map(|g| g.chars().count()).max().unwrap_or(0) as f64;
    (figure.bars.len() as f64 * 26.0 + 24.0).max(longest * CHAR_WIDTH + 16.0)
}

/// Size of the figure in SVG pixels.
pub(super) fn size(figure: &BarFigure) -> (u32, u32) {
    let width = ((LEFT + 30.0 + group_width(figure) * figure.groups.len() as f64) as u32).max(PANEL_WIDTH);
    (width, TITLE_HEIGHT + PANEL_HEIGHT + legend::height(&legend_entries(figure), width))
}

/// Draws the title, the bars with their error bars, the group labels and the legend.
pub(super) fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    figure: &BarFigure,
    scale: Scale,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let (title_area, rest) = root.split_vertically(scale.px(TITLE_HEIGHT.into()));
    draw_title(&title_area, &figure.title, scale)?;
    let (plot_area, legend_area) = rest.split_vertically(scale.px(PANEL_HEIGHT.into()));

    let top = figure.values.iter().flatten().flatten().map(|(m, s)| m + s).fold(0.0f64, f64::max);
    let y1 = if top > 0.0 { top * 1.08 } else { 1.0 };
    let y_decimals = decimals_for(y1 / 6.0);
    let groups = figure.groups.len().max(1) as f64;

    let mut chart = ChartBuilder::on(&plot_area)
        .margin(scale.px(10.0))
        .x_label_area_size(scale.px(56.0))
        .y_label_area_size(scale.px(LEFT))
        .build_cartesian_2d(-0.5..groups - 0.5, 0.0..y1)?;
    let y_format = |y: &f64| format!("{y:.y_decimals$}");
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_labels(6)
        .x_desc("method")
        .y_desc(&figure.y_label)
        .y_label_formatter(&y_format)
        .label_style(scale.tick_font())
        .axis_desc_style(scale.label_font())
        .axis_style(BLACK.stroke_width(scale.px(1.0)))
        .bold_line_style(RGBColor(220, 220, 220).stroke_width(scale.px(1.0)))
        .light_line_style(TRANSPARENT)
        .draw()?;

    let slot = 0.8 / figure.bars.len().max(1) as f64;
    for (g, values) in figure.values.iter().enumerate() {
        for (b, value) in values.iter().enumerate() {
            let Some((mean, std)) = *value else { continue };
            let x0 = g as f64 - 0.4 + b as f64 * slot;
            let (x1, center) = (x0 + slot * 0.9, x0 + slot * 0.45);
            chart.draw_series(std::iter::once(Rectangle::new([(x0, 0.0), (x1, mean)], color(b).filled())))?;
            if std > 0.0 {
                // Whisker with caps, drawn in pixels so the caps keep their width at any scale.
                let (cx, top) = chart.backend_coord(&(center, mean + std));
                let (_, bottom) = chart.backend_coord(&(center, (mean - std).max(0.0)));
                let cap = scale.offset(5.0);
                let style = BLACK.stroke_width(scale.px(1.5));
                for path in [
                    vec![(cx, top), (cx, bottom)],
                    vec![(cx - cap, top), (cx + cap, top)],
                    vec![(cx - cap, bottom), (cx + cap, bottom)],
                ] {
                    root.draw(&PathElement::new(path, style))?;
                }
            }
        }
    }
    // Group labels sit under each group; plotters' own tick labels cannot be placed on categories.
    let font = scale.tick_font().pos(Pos::new(HPos::Center, VPos::Top));
    for (g, label) in figure.groups.iter().enumerate() {
        let (x, y) = chart.backend_coord(&(g as f64, 0.0));
        root.draw_text(label, &font, (x, y + scale.offset(8.0)))?;
    }
    legend::draw(&legend_area, &legend_entries(figure), Swatch::Box, scale)
}

fn legend_entries(figure: &BarFigure) -> Vec<LegendEntry> {
    figure.bars.iter().enumerate().map(|(i, label)| LegendEntry { label: label.clone(), color: i }).collect()
}
