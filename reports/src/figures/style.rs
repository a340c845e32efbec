//! Shared look of every figure: palette, font sizes and canvas sizes, chosen so that a figure
//! scaled to one paper column (about 3.3 in) keeps text near 7 pt.

use plotters::style::{FontStyle, IntoFont, RGBColor, TextStyle};

/// Tableau 10: distinguishable, colour-blind friendly and print-safe.
pub const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// The colour of series `index` (the palette repeats after ten).
pub fn color(index: usize) -> RGBColor {
    PALETTE[index % PALETTE.len()]
}

/// Font family for all text (resolved through fontconfig).
pub const FONT: &str = "sans-serif";

/// Width of one panel in SVG pixels (PNG is drawn at [`PNG_SCALE`] times this).
pub const PANEL_WIDTH: u32 = 560;
/// Height of one panel in SVG pixels.
pub const PANEL_HEIGHT: u32 = 340;
/// PNG pixels per SVG pixel: crisp when printed, same layout.
pub const PNG_SCALE: f64 = 2.0;

/// Multiplies every size so the PNG and the SVG share one layout.
#[derive(Debug, Clone, Copy)]
pub struct Scale(pub f64, pub FontCorrection);

/// Font size correction per backend: plotters' SVG backend writes `font-size` as size / 1.24
/// (plotters-svg `svg.rs`), so SVG text would come out smaller than the same text in the PNG.
#[derive(Debug, Clone, Copy)]
pub struct FontCorrection(pub f64);

impl Scale {
    /// Sizes for the PNG backend.
    pub fn png() -> Self {
        Self(PNG_SCALE, FontCorrection(1.0))
    }

    /// Sizes for the SVG backend.
    pub fn svg() -> Self {
        Self(1.0, FontCorrection(1.24))
    }

    fn font_size(self, size: f64) -> f64 {
        self.0 * self.1.0 * size
    }

    /// A length in backend pixels.
    pub fn px(self, length: f64) -> u32 {
        (length * self.0).round() as u32
    }

    /// A coordinate offset in backend pixels.
    pub fn offset(self, length: f64) -> i32 {
        (length * self.0).round() as i32
    }

    /// The figure title font.
    pub fn title_font(self) -> TextStyle<'static> {
        (FONT, self.font_size(20.0), FontStyle::Bold).into_font().into()
    }

    /// Panel captions and axis descriptions.
    pub fn label_font(self) -> TextStyle<'static> {
        (FONT, self.font_size(17.0)).into_font().into()
    }

    /// Tick labels and legend entries.
    pub fn tick_font(self) -> TextStyle<'static> {
        (FONT, self.font_size(15.0)).into_font().into()
    }
}
