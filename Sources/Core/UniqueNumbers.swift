import Synchronization

/// Unique 64-bit numbers without a system call: SplitMix64's finalizer (a bijection) over a counter
/// that starts at a random value, so no two calls in a process return the same number and
/// processes start far apart. For ids that must be unique but need not be unguessable (request
/// ids, trace task ids): the router makes two per request, and each `getrandom` was a system call
/// on its hot path. Anything a caller must not guess uses `SystemRandomNumberGenerator`.
public enum UniqueNumbers {
    private static let counter: Atomic<UInt64> = {
        var generator = SystemRandomNumberGenerator()
        return Atomic(generator.next())
    }()

    public static func next() -> UInt64 {
        var z = counter.wrappingAdd(0x9E37_79B9_7F4A_7C15, ordering: .relaxed).newValue
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
