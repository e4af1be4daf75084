//! Synthetic estates of any size, deterministic by seed, split across files as real
//! repositories hold them: for benchmarks, scale tests and trying cordon out.
//!
//! Scale 1 is 200 accounts, 2,000 segments, 10,000 assets, 100,000 flows, 200
//! credentials and 100 invariants; scale 10 is ten times that. The shape follows real
//! estates: most traffic stays inside an account, some rules are written between whole
//! segments, a few paths cross accounts within an environment, public services take
//! traffic from the internet, and a few credentials have leaked. No flow crosses
//! environments, so every invariant (all of them between environments, or required
//! paths that exist) holds.

use std::fmt::Write as _;
use std::path::PathBuf;

/// What to generate.
#[derive(Clone, Debug)]
pub struct Options {
    /// Size of the estate; 10 gives 1,000,000 flows.
    pub scale: f64,
    /// Directory to write into (created if missing).
    pub out: PathBuf,
    pub format: Format,
    pub seed: u64,
    /// Number of files the flows are split across.
    pub flow_files: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Yaml,
    Json,
}

const ENVIRONMENTS: usize = 5;
const SEGMENTS_PER_ACCOUNT: usize = 10;
const ASSETS_PER_SEGMENT: usize = 5;
const PORTS: [&str; 6] = [
    "tcp/443",
    "tcp/22",
    "tcp/5432",
    "udp/53",
    "tcp/8000-8100",
    "tcp/6443",
];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn chance(&mut self, per_mille: u64) -> bool {
        self.next() % 1000 < per_mille
    }
}

/// One item, written as a YAML flow mapping or a JSON object.
struct Item {
    fields: Vec<(&'static str, Value)>,
}

enum Value {
    Text(String),
    List(Vec<String>),
    Bool(bool),
}

impl Item {
    fn new() -> Self {
        Item { fields: Vec::new() }
    }

    fn text(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.fields.push((key, Value::Text(value.into())));
        self
    }

    fn list(mut self, key: &'static str, values: Vec<String>) -> Self {
        self.fields.push((key, Value::List(values)));
        self
    }

    fn flag(mut self, key: &'static str, value: bool) -> Self {
        self.fields.push((key, Value::Bool(value)));
        self
    }

    fn write(&self, out: &mut String, format: Format) {
        let quote = |text: &str| match format {
            Format::Yaml => text.to_owned(),
            Format::Json => format!("\"{text}\""),
        };
        let parts: Vec<String> = self
            .fields
            .iter()
            .map(|(key, value)| {
                let value = match value {
                    Value::Text(text) => quote(text),
                    Value::List(items) => {
                        let items: Vec<String> = items.iter().map(|i| quote(i)).collect();
                        format!("[{}]", items.join(", "))
                    }
                    Value::Bool(flag) => flag.to_string(),
                };
                format!("{}: {value}", quote(key))
            })
            .collect();
        let _ = write!(out, "{{{}}}", parts.join(", "));
    }
}

/// A file being written: top-level key to its items.
struct File {
    sections: Vec<(&'static str, Vec<Item>)>,
}

impl File {
    fn new() -> Self {
        File {
            sections: Vec::new(),
        }
    }

    fn push(&mut self, key: &'static str, item: Item) {
        match self.sections.iter_mut().find(|(k, _)| *k == key) {
            Some((_, items)) => items.push(item),
            None => self.sections.push((key, vec![item])),
        }
    }

    fn render(&self, format: Format) -> String {
        let mut out = String::new();
        match format {
            Format::Yaml => {
                out.push_str("version: 1\n");
                for (key, items) in &self.sections {
                    let _ = writeln!(out, "{key}:");
                    for item in items {
                        out.push_str("  - ");
                        item.write(&mut out, format);
                        out.push('\n');
                    }
                }
            }
            Format::Json => {
                out.push_str("{\n  \"version\": \"1\"");
                for (key, items) in &self.sections {
                    let _ = write!(out, ",\n  \"{key}\": [\n");
                    for (index, item) in items.iter().enumerate() {
                        out.push_str("    ");
                        item.write(&mut out, format);
                        if index + 1 < items.len() {
                            out.push(',');
                        }
                        out.push('\n');
                    }
                    out.push_str("  ]");
                }
                out.push_str("\n}\n");
            }
        }
        out
    }
}

/// Writes a synthetic estate into `options.out`.
pub fn generate(options: &Options) -> std::io::Result<()> {
    let args = options;
    let mut rng = Rng(args.seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let accounts = ((200.0 * args.scale) as usize).max(ENVIRONMENTS);
    let segments = accounts * SEGMENTS_PER_ACCOUNT;
    let assets = segments * ASSETS_PER_SEGMENT;
    let flows = (100_000.0 * args.scale) as usize;
    let credentials = ((200.0 * args.scale) as usize).max(1);
    let invariants = ((100.0 * args.scale) as usize).max(1);

    let account_of_segment = |segment: usize| segment / SEGMENTS_PER_ACCOUNT;
    let segment_of_asset = |asset: usize| asset / ASSETS_PER_SEGMENT;
    let env_of_account = |account: usize| account % ENVIRONMENTS;
    // Each account owns a /20 of 10.0.0.0/8 and each segment a /24 of it.
    let account_base = |account: usize| (10u32 << 24) + (account as u32) * 4096;
    let ip = |n: u32| {
        format!(
            "{}.{}.{}.{}",
            n >> 24,
            (n >> 16) & 255,
            (n >> 8) & 255,
            n & 255
        )
    };

    let ext = match args.format {
        Format::Yaml => "yaml",
        Format::Json => "json",
    };
    std::fs::create_dir_all(&args.out)?;
    let write = |name: &str, file: &File| {
        std::fs::write(
            args.out.join(format!("{name}.{ext}")),
            file.render(args.format),
        )
    };

    let mut estate = File::new();
    for env in 0..ENVIRONMENTS {
        estate.push(
            "environments",
            Item::new().text("name", format!("env-{env}")),
        );
    }
    for account in 0..accounts {
        let item = Item::new()
            .text("name", format!("acct-{account}"))
            .text("in", format!("env-{}", env_of_account(account)))
            .text("provider", "aws")
            .list("cidrs", vec![format!("{}/20", ip(account_base(account)))]);
        estate.push("accounts", item);
    }
    write("accounts", &estate)?;

    let mut segment_file = File::new();
    for segment in 0..segments {
        let account = account_of_segment(segment);
        let base = account_base(account) + (segment % SEGMENTS_PER_ACCOUNT) as u32 * 256;
        let item = Item::new()
            .text("name", format!("seg-{segment}"))
            .text("in", format!("acct-{account}"))
            .list("cidrs", vec![format!("{}/24", ip(base))]);
        segment_file.push("segments", item);
    }
    write("segments", &segment_file)?;

    const ROLES: [&str; 3] = ["web", "app", "db"];
    let asset_files = 4;
    let per_file = assets.div_ceil(asset_files);
    for part in 0..asset_files {
        let mut file = File::new();
        for asset in part * per_file..((part + 1) * per_file).min(assets) {
            let segment = segment_of_asset(asset);
            let base = account_base(account_of_segment(segment))
                + (segment % SEGMENTS_PER_ACCOUNT) as u32 * 256;
            let mut tags = vec![ROLES[asset % 3].to_owned()];
            if asset % 3 == 2 && rng.chance(100) {
                tags.push("pci".to_owned());
            }
            let item = Item::new()
                .text("name", format!("host-{asset}"))
                .text("in", format!("seg-{segment}"))
                .list(
                    "cidrs",
                    vec![ip(base + 10 + (asset % ASSETS_PER_SEGMENT) as u32)],
                )
                .list("tags", tags);
            file.push("assets", item);
        }
        write(&format!("assets-{part}"), &file)?;
    }

    let random_asset_in_account = |rng: &mut Rng, account: usize| {
        account * SEGMENTS_PER_ACCOUNT * ASSETS_PER_SEGMENT
            + rng.below(SEGMENTS_PER_ACCOUNT * ASSETS_PER_SEGMENT)
    };
    let mut credential_file = File::new();
    for credential in 0..credentials {
        let holder = rng.below(assets);
        let mut item = Item::new()
            .text("name", format!("cred-{credential}"))
            .text("kind", "service-token")
            .list("held_by", vec![format!("host-{holder}")]);
        if rng.chance(50) {
            item = item.flag("leaked", true);
        }
        credential_file.push("credentials", item);
    }
    write("credentials", &credential_file)?;

    // Flows, and for each environment a few pairs joined directly, to require.
    let mut required: Vec<(usize, usize)> = Vec::new();
    let per_file = flows.div_ceil(args.flow_files);
    for part in 0..args.flow_files {
        let mut file = File::new();
        for flow in part * per_file..((part + 1) * per_file).min(flows) {
            let account = rng.below(accounts);
            let roll = rng.below(1000);
            let (from, to) = if roll < 700 {
                let from = random_asset_in_account(&mut rng, account);
                let to = random_asset_in_account(&mut rng, account);
                if required.len() < invariants / 2 && from != to && rng.chance(5) {
                    required.push((from, to));
                }
                (format!("host-{from}"), format!("host-{to}"))
            } else if roll < 900 {
                let from = account * SEGMENTS_PER_ACCOUNT + rng.below(SEGMENTS_PER_ACCOUNT);
                let to = account * SEGMENTS_PER_ACCOUNT + rng.below(SEGMENTS_PER_ACCOUNT);
                (format!("seg-{from}"), format!("seg-{to}"))
            } else if roll < 990 {
                // Another account of the same environment.
                let other = (account + ENVIRONMENTS * (1 + rng.below(3))) % accounts;
                let other = if env_of_account(other) == env_of_account(account) {
                    other
                } else {
                    account
                };
                let from = random_asset_in_account(&mut rng, account);
                let to = random_asset_in_account(&mut rng, other);
                (format!("host-{from}"), format!("host-{to}"))
            } else {
                let web = random_asset_in_account(&mut rng, account) / 3 * 3;
                ("internet".to_owned(), format!("host-{web}"))
            };
            let mut item = Item::new()
                .text("name", format!("f-{flow}"))
                .text("from", from)
                .text("to", to)
                .list("ports", vec![PORTS[rng.below(PORTS.len())].to_owned()]);
            if rng.chance(30) {
                item = item.list("auth", vec![format!("cred-{}", rng.below(credentials))]);
            }
            file.push("flows", item);
        }
        write(&format!("flows-{part:02}"), &file)?;
    }

    let mut invariant_file = File::new();
    let mut written = 0;
    for &(from, to) in &required {
        if written >= invariants / 2 {
            break;
        }
        // The rule is a nested mapping, spliced in as text by `splice_rules`.
        invariant_file.push(
            "invariants",
            Item::new()
                .text("name", format!("inv-{written}"))
                .text("severity", "medium")
                .list("references", vec!["SOC2-CC6.6".to_owned()])
                .text(
                    "require",
                    format!("__RULE__{{from: host-{from}, to: host-{to}}}"),
                ),
        );
        written += 1;
    }
    while written < invariants {
        let a = rng.below(accounts);
        let mut b = rng.below(accounts);
        if env_of_account(a) == env_of_account(b) {
            b = (a + 1) % accounts;
        }
        invariant_file.push(
            "invariants",
            Item::new()
                .text("name", format!("inv-{written}"))
                .text("severity", ["critical", "high", "low"][written % 3])
                .list("references", vec!["ISO27001-A.8.22".to_owned()])
                .text(
                    "forbid",
                    format!("__RULE__{{from: acct-{a}, to: acct-{b}}}"),
                ),
        );
        written += 1;
    }
    let text = invariant_file.render(args.format);
    let text = splice_rules(&text, args.format);
    std::fs::write(args.out.join(format!("invariants.{ext}")), text)?;
    Ok(())
}

/// Turns the `__RULE__{from: a, to: b}` placeholders into real mappings.
fn splice_rules(text: &str, format: Format) -> String {
    match format {
        Format::Yaml => text.replace("__RULE__", ""),
        Format::Json => {
            let mut out = String::with_capacity(text.len());
            for line in text.lines() {
                if let Some(start) = line.find("\"__RULE__{") {
                    let end = line[start..]
                        .find("}\"")
                        .map_or(line.len(), |e| start + e + 2);
                    let inner = &line[start + 10..end - 2];
                    let fields: Vec<String> = inner
                        .split(", ")
                        .filter_map(|pair| pair.split_once(": "))
                        .map(|(k, v)| format!("\"{k}\": \"{v}\""))
                        .collect();
                    out.push_str(&line[..start]);
                    out.push_str(&format!("{{{}}}", fields.join(", ")));
                    out.push_str(&line[end..]);
                } else {
                    out.push_str(line);
                }
                out.push('\n');
            }
            out
        }
    }
}
