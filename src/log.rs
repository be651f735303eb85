//! Redis-style log lines: `pid:M dd Mon yyyy hh:mm:ss.mmm <level> message`,
//! on stdout or appended to `logfile`.

use std::io::Write;
use std::sync::OnceLock;

static LOGFILE: OnceLock<String> = OnceLock::new();
static LEVEL: OnceLock<u8> = OnceLock::new();

/// Sets where and how much to log; called once at start-up.
pub fn init(logfile: &str, loglevel: &str) {
    let _ = LOGFILE.set(logfile.to_string());
    let _ = LEVEL.set(match loglevel {
        "debug" => 0,
        "verbose" => 1,
        "notice" => 2,
        _ => 3,
    });
}

fn write(level: u8, mark: char, msg: &str) {
    if level < *LEVEL.get().unwrap_or(&2) {
        return;
    }
    let line = format!(
        "{}:M {} {} {}\n",
        std::process::id(),
        timestamp(),
        mark,
        msg
    );
    match LOGFILE.get().map(String::as_str) {
        Some(path) if !path.is_empty() => {
            if let Ok(mut f) = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
            {
                let _ = f.write_all(line.as_bytes());
            }
        }
        _ => {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(line.as_bytes());
            let _ = out.flush();
        }
    }
}

pub fn notice(msg: &str) {
    write(2, '*', msg);
}

pub fn warning(msg: &str) {
    write(3, '#', msg);
}

fn timestamp() -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since the epoch (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{:02} {} {} {:02}:{:02}:{:02}.{:03}",
        day,
        MONTHS[(month - 1) as usize],
        year,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        now.subsec_millis()
    )
}
