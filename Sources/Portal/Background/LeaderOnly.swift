import Foundation
import Logging
import ServiceLifecycle
import Storage

/// Runs a singleton loop only on the replica that holds its lease (docs/ha.md).
///
/// A follower tries to take the lease every `renewEvery`; the leader renews it as often and runs
/// the loop with the lease's epoch as the fencing token of every write it makes. When a renewal
/// finds the lease taken, or the store has not confirmed the lease before it would expire, the
/// loop is cancelled at once; writes it still attempts are refused by the store (the epoch moved
/// on). On graceful shutdown the lease is given up, so another replica need not wait for expiry.
struct LeaderOnly: Service {
    let lease: String
    let inner: any Service
    let database: any Database
    let holder: String
    let leaseSeconds: Double
    let renewEvery: Duration
    let logger: Logger

    func run() async throws {
        var held: Int64?
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            if let epoch = try? await take() {
                held = epoch
                logger.notice("leading", metadata: ["lease": .string(lease), "epoch": .stringConvertible(epoch), "holder": .string(holder)])
                await lead(epoch)
                if !Task.isShuttingDownGracefully && !Task.isCancelled {
                    logger.warning("leadership lost; the loop stopped", metadata: ["lease": .string(lease), "epoch": .stringConvertible(epoch)])
                }
            } else {
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: renewEvery) }
            }
        }
        if held != nil {
            let (lease, holder) = (self.lease, self.holder)
            _ = try? await database.write { try LeaderLease.release(lease, holder: holder, on: $0) }
        }
    }

    /// The epoch now held, or nil when another replica holds the lease.
    private func take() async throws -> Int64? {
        let (lease, holder, seconds) = (self.lease, self.holder, leaseSeconds)
        return try await database.write { try LeaderLease.acquireOrRenew(lease, holder: holder, seconds: seconds, on: $0) }
    }

    /// Runs the loop while renewals keep `epoch`; returns when either ends.
    private func lead(_ epoch: Int64) async {
        let token = FencingToken(lease: lease, epoch: epoch)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [inner, logger, lease] in
                do {
                    try await FencingToken.$current.withValue(token) { try await inner.run() }
                } catch {
                    if !Task.isCancelled { logger.error("singleton loop failed", metadata: ["lease": .string(lease), "error": .string("\(error)")]) }
                }
            }
            group.addTask { await keep(epoch) }
            await group.next()
            group.cancelAll()
        }
    }

    /// Renews until the lease is lost (taken, or unconfirmed for as long as it lasts) or shutdown.
    private func keep(_ epoch: Int64) async {
        var confirmedUntil = ContinuousClock.now + .milliseconds(Int64(leaseSeconds * 1000))
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: renewEvery) }
            if Task.isShuttingDownGracefully || Task.isCancelled { return }
            let asked = ContinuousClock.now
            do {
                guard try await take() == epoch else { return }
                confirmedUntil = asked + .milliseconds(Int64(leaseSeconds * 1000))
            } catch {
                // The store did not answer: keep leading only while the last confirmed lease runs.
                if ContinuousClock.now + renewEvery >= confirmedUntil { return }
            }
        }
    }
}

/// The inner service of a replica's presence lease: holding the lease is all it does.
struct Presence: Service {
    func run() async throws {
        try await gracefulShutdown()
    }
}

/// This process's name in the lease table: host, pid and a random suffix (a restarted process is a new holder).
enum ReplicaIdentity {
    static let holder: String = {
        let host = ProcessInfo.processInfo.hostName
        return "\(host)-\(getpid())-\(UInt32.random(in: 0...UInt32.max) & 0xFFFF)"
    }()
}
