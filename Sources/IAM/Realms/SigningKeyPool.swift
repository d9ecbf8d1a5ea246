import Core
import Cryptography
import NIOConcurrencyHelpers

/// RSA keys generated ahead of need, so creating a realm (tenant onboarding) does not wait for
/// a 2048-bit prime search (50–400 ms here).
///
/// One dedicated thread refills the pool, so a burst of new realms never delays password
/// hashing or token signing. When the pool is empty, a key is generated on the spot.
public final class SigningKeyPool: Sendable {
    private struct State {
        var spare: [RSASigningKey] = []
        var generating = 0
    }

    private let state = NIOLockedValueBox(State())
    private let target: Int
    private let generator: BlockingWorkPool

    /// A pool keeping up to `target` spare keys.
    public init(target: Int = 4) {
        self.target = target
        generator = BlockingWorkPool(threads: 1)
        refill()
    }

    /// A fresh key: a spare one if ready, else generated now on `fallback` threads, so it never
    /// queues behind the refills.
    public func take(fallback: BlockingWorkPool) async throws -> RSASigningKey {
        let spare = state.withLockedValue { $0.spare.popLast() }
        refill()
        if let spare { return spare }
        return try await fallback.run { try RSASigningKey.generate() }
    }

    /// A spare key if one is ready now; never waits.
    public func takeReady() -> RSASigningKey? {
        let spare = state.withLockedValue { $0.spare.popLast() }
        refill()
        return spare
    }

    /// A key made on the pool's own thread, for background work that must not take the threads requests use.
    public func generateInBackground() async throws -> RSASigningKey {
        try await generator.run { try RSASigningKey.generate() }
    }

    /// Keys ready right now.
    public var ready: Int { state.withLockedValue { $0.spare.count } }

    private func refill() {
        let missing = state.withLockedValue { state -> Int in
            let missing = max(target - state.spare.count - state.generating, 0)
            state.generating += missing
            return missing
        }
        for _ in 0..<missing {
            generator.submit { [state] in
                let key = try? RSASigningKey.generate()
                state.withLockedValue { state in
                    state.generating -= 1
                    if let key { state.spare.append(key) }
                }
            }
        }
    }

    /// Stops the generator thread.
    public func shutdown() async { await generator.shutdown() }
}
