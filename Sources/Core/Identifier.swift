#if canImport(Glibc)
import Glibc
#endif

/// Makes resource identifiers: a type prefix, then 12 hex digits of milliseconds and 16 random hex digits.
///
/// The time part makes identifiers sort in creation order, which keyset pagination and the
/// audit log rely on; the random part makes them unguessable across tenants.
public enum Identifier {
    /// A new identifier such as `usr_0192f3a4b5c6d7e8f9a0b1c2d3e4`.
    public static func make(_ prefix: String, at millis: Int64) -> String {
        var generator = SystemRandomNumberGenerator()
        let random = generator.next() as UInt64
        return prefix + "_" + hex(UInt64(max(0, millis)), digits: 12) + hex(random, digits: 16)
    }

    /// An identifier that sorts by time and is unique, but may be guessed (a request's trace): no system call.
    public static func makeUnique(_ prefix: String, at millis: Int64) -> String {
        prefix + "_" + hex(UInt64(max(0, millis)), digits: 12) + hex(UniqueNumbers.next(), digits: 16)
    }

    static func hex(_ value: UInt64, digits: Int) -> String {
        let raw = String(value, radix: 16)
        let clipped = raw.count > digits ? String(raw.suffix(digits)) : raw
        return String(repeating: "0", count: digits - clipped.count) + clipped
    }
}
