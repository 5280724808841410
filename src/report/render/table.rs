//! Text tables fitted to 80 columns: the widest column gives way first and
//! ids and dates never shrink, so a report reads on any terminal.

/// Width tables are fitted to.
pub const WIDTH: usize = 80;
const GAP: usize = 2;

/// A titled table of text cells.
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub(crate) title: String,
    pub(crate) headers: Vec<&'static str>,
    pub(crate) rows: Vec<Vec<String>>,
    /// How many rows the table has in all: `rows` holds those of the
    /// window it was laid out for (`super::Window`).
    pub(crate) total: usize,
    /// Columns that are never shortened (ids, dates).
    pub fixed: Vec<usize>,
}

fn len(s: &str) -> usize {
    s.chars().count()
}

/// Column widths that fit `max` characters with two spaces between
/// columns: the widest column gives way first, none below 4 characters;
/// `fixed` columns (ids, dates) never shrink.
pub fn fit(natural: &[usize], max: usize, fixed: &[usize]) -> Vec<usize> {
    let mut w = natural.to_vec();
    let gaps = GAP * w.len().saturating_sub(1);
    while w.iter().sum::<usize>() + gaps > max {
        let Some((i, &widest)) = w
            .iter()
            .enumerate()
            .filter(|(i, _)| !fixed.contains(i))
            .max_by_key(|(_, &v)| v)
        else {
            break;
        };
        if widest <= 4 {
            break;
        }
        w[i] = widest - 1;
    }
    w
}

fn cell(s: &str, width: usize) -> String {
    if len(s) <= width {
        format!("{s:<width$}")
    } else {
        let cut: String = s.chars().take(width.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

impl Table {
    pub(crate) fn new(title: impl Into<String>, headers: &[&'static str]) -> Table {
        Table {
            title: title.into(),
            headers: headers.to_vec(),
            rows: Vec::new(),
            total: 0,
            fixed: headers
                .iter()
                .enumerate()
                .filter(|(_, h)| {
                    matches!(
                        **h,
                        "ID" | "TIME" | "DATE" | "KIND" | "EXPIRY" | "SINCE" | "LAST" | "BY"
                    )
                })
                .map(|(i, _)| i)
                .collect(),
        }
    }

    /// The table as text, no line longer than `WIDTH`.
    pub fn render(&self) -> String {
        let natural: Vec<usize> = self
            .headers
            .iter()
            .enumerate()
            .map(|(i, h)| {
                self.rows
                    .iter()
                    .map(|r| r.get(i).map_or(0, |c| len(c)))
                    .chain([len(h)])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let widths = fit(&natural, WIDTH, &self.fixed);
        let line = |cells: &mut dyn Iterator<Item = &str>| -> String {
            let parts: Vec<String> = cells.zip(&widths).map(|(c, &w)| cell(c, w)).collect();
            parts.join(&" ".repeat(GAP)).trim_end().to_owned()
        };
        let mut out = String::new();
        if !self.title.is_empty() {
            out.push_str(&self.title);
            out.push('\n');
        }
        out.push_str(&line(&mut self.headers.iter().copied()));
        out.push('\n');
        for r in &self.rows {
            out.push_str(&line(&mut r.iter().map(String::as_str)));
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_shrinks_the_widest_column_to_80() {
        let w = fit(&[10, 60, 30], WIDTH, &[]);
        assert_eq!(w.iter().sum::<usize>() + 4, 80);
        assert_eq!(w, vec![10, 36, 30]);
        assert_eq!(fit(&[10, 50, 50], WIDTH, &[]), vec![10, 33, 33]);
        assert_eq!(fit(&[10, 50, 50], WIDTH, &[1]), vec![10, 50, 16]);
        assert_eq!(fit(&[3, 4], WIDTH, &[]), vec![3, 4]);
    }

    #[test]
    fn tables_are_aligned_and_never_wider_than_80() {
        let mut t = Table::new("T", &["A", "LONG"]);
        t.rows.push(vec!["x".into(), "y".repeat(200)]);
        t.rows.push(vec!["xyz".into(), "short".into()]);
        let text = t.render();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "T");
        assert_eq!(lines[1], "A    LONG");
        assert!(lines[2].starts_with("x    yyy") && lines[2].ends_with('…'));
        assert_eq!(lines[3], "xyz  short");
        assert!(lines.iter().all(|l| l.chars().count() <= WIDTH));
    }
}
