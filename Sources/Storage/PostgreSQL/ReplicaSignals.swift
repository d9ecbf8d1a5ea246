import Logging
import NIOPosix
import PostgresNIO

/// Tells the other controller replicas on one store what changed, so their caches follow within a
/// second (docs/ha.md). On PostgreSQL a signal is a NOTIFY on one channel; a replica listens on a
/// connection of its own and, after every (re)connect, resynchronises everything, since signals
/// sent while it was away (a failed primary takes them along) are lost.
public protocol ReplicaSignals: Sendable {
    /// Announces that `key` of `topic` changed.
    func publish(_ topic: String, _ key: String) async
}

extension PostgreSQLDatabase: ReplicaSignals {
    /// The NOTIFY channel of cache signals.
    public static let signalChannel = "metalplane_cache"

    public func publish(_ topic: String, _ key: String) async {
        _ = try? await write { try $0.query("SELECT pg_notify(?, ?)", [.text(Self.signalChannel), .text(topic + ":" + key)]) }
    }

    /// Delivers signals to `onSignal` (topic, key) until cancelled. `onResync` runs once listening,
    /// after every connect. Reconnects to whichever host is primary, every `retry` while none answers.
    public func listenForSignals(retry: Duration = .milliseconds(500), logger: Logger,
                                 onResync: @escaping @Sendable () async -> Void,
                                 onSignal: @escaping @Sendable (String, String) async -> Void) async {
        while !Task.isCancelled {
            do {
                let connection = try await PostgresSession.connectToPrimary(location, logger: logger)
                do {
                    try await connection.listen(on: Self.signalChannel) { notifications in
                        await onResync()
                        for try await notification in notifications {
                            let parts = notification.payload.split(separator: ":", maxSplits: 1)
                            if parts.count == 2 { await onSignal(String(parts[0]), String(parts[1])) }
                        }
                    }
                } catch {
                    if !Task.isCancelled { logger.warning("cache signals interrupted; reconnecting", metadata: ["error": .string("\(error)")]) }
                }
                try? await connection.close()
            } catch {
                if !Task.isCancelled { logger.warning("cache signals: no primary yet", metadata: ["error": .string("\(error)")]) }
            }
            try? await Task.sleep(for: retry)
        }
    }
}
