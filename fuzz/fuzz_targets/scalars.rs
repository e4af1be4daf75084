//! The scalars that policies and the command line write as text: ports (`tcp/443`) and
//! dates (`2025-01-31`). Whatever parses must print as text that parses to the same value.

#![no_main]

use cordon::date::Date;
use cordon::ports::PortSpec;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(spec) = text.parse::<PortSpec>() {
        let printed = spec.to_string();
        assert_eq!(
            printed.parse::<PortSpec>(),
            Ok(spec),
            "{text:?} printed as {printed:?}"
        );
        assert!(spec.overlaps(&spec));
        assert!(spec.overlaps(&PortSpec::ANY));
    } else {
        let _ = cordon::ports::suggestion(text);
    }
    if let Ok(date) = text.parse::<Date>() {
        let printed = date.to_string();
        assert_eq!(printed, text.trim(), "{text:?}");
        assert_eq!(date.days_until(date), 0);
    }
});
