//! Figures drawn with plotters, each written as PNG and SVG: training curves, G2D traces
//! (teacher confidence, SMP timeline, confidence ratio, feature alignment) and accuracy bars.

mod bar;
mod legend;
mod line;
pub mod plan;
mod style;

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::ReportError;

/// A figure of one or more line panels sharing one legend.
#[derive(Debug, Clone, PartialEq)]
pub struct LineFigure {
    /// Figure title (names the suite and the dataset).
    pub title: String,
    /// The panels, laid out two per row.
    pub panels: Vec<Panel>,
    /// Legend entries; [`Series::legend`] indexes into it.
    pub legend: Vec<LegendEntry>,
}

/// One legend entry and the colour its series are drawn in.
#[derive(Debug, Clone, PartialEq)]
pub struct LegendEntry {
    /// Text.
    pub label: String,
    /// Palette index, fixed per method variant so a method keeps its colour across figures.
    pub color: usize,
}

/// One set of axes.
#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    /// Caption above the axes (empty for none).
    pub title: String,
    /// X axis description.
    pub x_label: String,
    /// Y axis description.
    pub y_label: String,
    /// Fixed y range; computed from the data when `None`.
    pub y_range: Option<(f64, f64)>,
    /// Draw each point as a step spanning its epoch (for per-epoch schedules such as SMP).
    pub steps: bool,
    /// The lines.
    pub series: Vec<Series>,
}

/// One line of a panel.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Index of the legend entry, which gives the colour.
    pub legend: usize,
    /// (x, y) points sorted by x.
    pub points: Vec<(f64, f64)>,
}

/// Grouped bars with error bars: one group per method, one bar per head.
#[derive(Debug, Clone, PartialEq)]
pub struct BarFigure {
    /// Figure title.
    pub title: String,
    /// Y axis description.
    pub y_label: String,
    /// Group labels (x axis).
    pub groups: Vec<String>,
    /// Bar labels within a group (legend).
    pub bars: Vec<String>,
    /// `values[group][bar]`: mean and std (0 for a single seed); `None` when missing.
    pub values: Vec<Vec<Option<(f64, f64)>>>,
}

/// What a figure draws.
#[derive(Debug, Clone, PartialEq)]
pub enum FigureKind {
    /// Line panels.
    Line(LineFigure),
    /// Grouped bars.
    Bar(BarFigure),
}

/// A figure to write, with the file stem and the caption used in the HTML report.
#[derive(Debug, Clone, PartialEq)]
pub struct FigureSpec {
    /// File stem: `<what>-<dataset>`.
    pub stem: String,
    /// Caption in the report.
    pub caption: String,
    /// The drawing.
    pub kind: FigureKind,
}

/// A figure written to disk.
#[derive(Debug, Clone, PartialEq)]
pub struct WrittenFigure {
    /// File stem.
    pub stem: String,
    /// Caption in the report.
    pub caption: String,
    /// The PNG file.
    pub png: PathBuf,
    /// The SVG file.
    pub svg: PathBuf,
    /// Width in CSS pixels (the SVG width; the PNG has twice as many pixels).
    pub width: u32,
}

impl FigureSpec {
    /// Size of the figure in SVG pixels.
    fn size(&self) -> (u32, u32) {
        match &self.kind {
            FigureKind::Line(figure) => line::size(figure),
            FigureKind::Bar(figure) => bar::size(figure),
        }
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        scale: style::Scale,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        root.fill(&WHITE)?;
        match &self.kind {
            FigureKind::Line(figure) => line::draw(root, figure, scale),
            FigureKind::Bar(figure) => bar::draw(root, figure, scale),
        }
    }

    /// Writes `<stem>.png` and `<stem>.svg` into `dir`.
    pub fn write(&self, dir: &Path) -> Result<WrittenFigure, ReportError> {
        let (width, height) = self.size();
        let png = dir.join(format!("{}.png", self.stem));
        let svg = dir.join(format!("{}.svg", self.stem));
        let failed = |path: &Path, error: String| ReportError::Figure { path: path.to_owned(), message: error };
        {
            let scale = style::Scale::png();
            let root = BitMapBackend::new(&png, (scale.px(width.into()), scale.px(height.into()))).into_drawing_area();
            self.draw(&root, scale).map_err(|e| failed(&png, e.to_string()))?;
            root.present().map_err(|e| failed(&png, e.to_string()))?;
        }
        {
            let root = SVGBackend::new(&svg, (width, height)).into_drawing_area();
            self.draw(&root, style::Scale::svg()).map_err(|e| failed(&svg, e.to_string()))?;
            root.present().map_err(|e| failed(&svg, e.to_string()))?;
        }
        Ok(WrittenFigure { stem: self.stem.clone(), caption: self.caption.clone(), png, svg, width })
    }
}
