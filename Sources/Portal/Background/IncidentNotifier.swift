import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import Telemetry

/// Announces incidents to the notification targets every `interval` (one replica runs it, a singleton loop):
/// a `webhook` target gets Alertmanager's webhook payload for each incident version it has not heard of; an
/// `alertmanager` target gets every open incident as an alert at least every `resendEvery` (Alertmanager
/// resolves an alert no one repeats) and each change at once. A target that fails is tried again next round.
struct IncidentNotifier: Service {
    let targets: NotificationTargets
    let externalURL: String
    let interval: Duration
    let logger: Logger
    var resendEvery: Duration = .seconds(30)

    func run() async throws {
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(timeout: .init(connect: .seconds(3), read: .seconds(10))))
        var lastSent: [String: ContinuousClock.Instant] = [:]
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                for target in try await targets.all() where target.enabled {
                    do {
                        try await announce(to: target, client: client, lastSent: &lastSent)
                    } catch {
                        logger.warning("notification target not reached; retried next round", metadata: ["target": .string(target.name), "error": .string("\(error)")])
                    }
                }
            } catch {
                if !Task.isCancelled { logger.warning("notifications not sent this turn", metadata: ["error": .string("\(error)")]) }
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
        try? await client.shutdown()
    }

    private func announce(to target: NotificationTargets.Target, client: HTTPClient, lastSent: inout [String: ContinuousClock.Instant]) async throws {
        let changed = try await targets.undelivered(to: target)
        switch target.kind {
        case .webhook:
            for incident in changed {
                try await post(AlertmanagerPayload.webhook(incident, receiver: target.name, externalURL: externalURL), to: target.url, client: client)
                try await targets.delivered([incident], to: target)
            }
        case .alertmanager:
            let due = lastSent[target.id].map { ContinuousClock.now - $0 >= resendEvery } ?? true
            guard due || !changed.isEmpty else { return }
            let open = try await targets.open()
            let ids = Set(open.map(\.id))
            let alerts = (open + changed.filter { !ids.contains($0.id) }).map { AlertmanagerPayload.alert($0, externalURL: externalURL) }
            let base = target.url.hasSuffix("/") ? String(target.url.dropLast()) : target.url
            if !alerts.isEmpty { try await post(alerts, to: base + "/api/v2/alerts", client: client) }
            try await targets.delivered(changed, to: target)
            lastSent[target.id] = .now
        }
    }

    private func post(_ body: some Encodable, to url: String, client: HTTPClient) async throws {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        request.headers.add(name: "user-agent", value: "metalplane-incidents")
        request.body = .bytes(ByteBuffer(bytes: try JSONEncoder().encode(body)))
        let response = try await client.execute(request, timeout: .seconds(10))
        _ = try? await response.body.collect(upTo: 64 * 1024)
        guard (200..<300).contains(response.status.code) else { throw NotificationFailure(status: Int(response.status.code)) }
    }

    struct NotificationFailure: Error, CustomStringConvertible {
        var status: Int
        var description: String { "the target answered HTTP \(status)" }
    }
}
