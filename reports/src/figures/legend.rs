//! A legend drawn below the plot area, wrapped into rows, so it never covers data.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::LegendEntry;
use super::style::{Scale, color};

/// How an entry's colour swatch is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Swatch {
    /// A short line with a dot (line charts).
    Line,
    /// A filled square (bar charts).
    Box,
}

const ROW_HEIGHT: f64 = 24.0;
const PADDING: f64 = 8.0;
const SWATCH_WIDTH: f64 = 26.0;
const GAP: f64 = 6.0;
const SPACING: f64 = 22.0;
/// Average glyph width of the tick font relative to its size (DejaVu Sans is about 0.55).
const CHAR_WIDTH: f64 = 15.0 * 0.6;

fn entry_width(label: &str) -> f64 {
    SWATCH_WIDTH + GAP + CHAR_WIDTH * label.chars().count() as f64 + SPACING
}

/// Packs entries into rows that fit `width` (SVG pixels); each row lists entry indices.
fn rows(entries: &[LegendEntry], width: f64) -> Vec<Vec<usize>> {
    let mut rows: Vec<Vec<usize>> = Vec::new();
    let mut used = f64::INFINITY;
    for (index, entry) in entries.iter().enumerate() {
        let w = entry_width(&entry.label);
        if used + w > width - 2.0 * PADDING {
            rows.push(Vec::new());
            used = 0.0;
        }
        rows.last_mut().expect("a row was pushed").push(index);
        used += w;
    }
    rows
}

/// Height in SVG pixels of the legend in a figure `width` pixels wide.
pub(super) fn height(entries: &[LegendEntry], width: u32) -> u32 {
    let rows = rows(entries, f64::from(width)).len();
    if rows == 0 { 0 } else { (rows as f64 * ROW_HEIGHT + 2.0 * PADDING) as u32 }
}

/// Draws the legend centred in `area`.
pub(super) fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[LegendEntry],
    swatch: Swatch,
    scale: Scale,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let width = f64::from(area.dim_in_pixel().0) / scale.0;
    let font = scale.tick_font().pos(Pos::new(HPos::Left, VPos::Center));
    for (row_index, row) in rows(entries, width).iter().enumerate() {
        let row_width: f64 = row.iter().map(|i| entry_width(&entries[*i].label)).sum::<f64>() - SPACING;
        let mut x = ((width - row_width) / 2.0).max(PADDING);
        let y = PADDING + ROW_HEIGHT * (row_index as f64 + 0.5);
        for &index in row {
            let entry = &entries[index];
            let c = color(entry.color);
            let (sx, sy) = (scale.offset(x), scale.offset(y));
            match swatch {
                Swatch::Line => {
                    area.draw(&PathElement::new(
                        vec![(sx, sy), (sx + scale.offset(SWATCH_WIDTH), sy)],
                        c.stroke_width(scale.px(2.5)),
                    ))?;
                    area.draw(&Circle::new((sx + scale.offset(SWATCH_WIDTH / 2.0), sy), scale.px(3.5), c.filled()))?;
                }
                Swatch::Box => {
                    let half = scale.offset(7.0);
                    let left = sx + scale.offset(SWATCH_WIDTH / 2.0) - half;
                    area.draw(&Rectangle::new([(left, sy - half), (left + 2 * half, sy + half)], c.filled()))?;
                }
            }
            area.draw_text(&entry.label, &font, (scale.offset(x + SWATCH_WIDTH + GAP), sy))?;
            x += entry_width(&entry.label);
        }
    }
    Ok(())
}
