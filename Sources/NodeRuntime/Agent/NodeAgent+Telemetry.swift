import Core
import Foundation
import Logging
import NIOConcurrencyHelpers
import NodeContract
import ServiceLifecycle

/// Telemetry batches and threshold alerts, each on its own loop beside the link.
extension NodeAgent {
    /// Every telemetry interval (the controller sets it at registration): one batch to the controller.
    func telemetryLoop() async {
        _ = await telemetrySampler.sample([])
        while !Task.isCancelled {
            let seconds = current?.telemetrySeconds ?? 1
            do { try await Task.sleep(for: .milliseconds(Int64(seconds * 1000))) } catch { return }
            guard let token = current?.sessionToken else { continue }
            let running = supervisors.withLockedValue { Array($0.values) }
            let credentials = Dictionary(running.compactMap { runner in runner.spec.apiKey.map { (runner.spec.instanceId, $0) } }, uniquingKeysWith: { $1 })
            var batch = await telemetrySampler.sample(running.map(\.status), credentials: credentials)
            batch.storageLatencySeconds = lastStorageLatency.withLockedValue { $0 }
            let evictions = pendingEvictions.withLockedValue { pending in defer { pending = [] }; return pending }
            batch.evictions = evictions
            do {
                try await link.telemetry(token: token, batch: batch)
            } catch {
                // Undelivered evictions go out with the next batch.
                pendingEvictions.withLockedValue { $0 = evictions + $0 }
                logger.warning("telemetry not delivered", metadata: ["error": .string("\(error)")])
            }
        }
    }

    /// Every `alertCheckSeconds`: thresholds checked on the node; alerts go out at once and into the event log.
    func alertLoop() async {
        _ = await alertSampler.sample([])
        let folder = configuration.nodeCachePath
        while !Task.isCancelled {
            do { try await Task.sleep(for: .milliseconds(Int64(configuration.alertCheckSeconds * 1000))) } catch { return }
            let batch = await alertSampler.sample([])
            let latency = try? await workers.run { ThresholdMonitor.storageLatency(in: folder) }
            lastStorageLatency.withLockedValue { $0 = latency ?? nil }
            let alerts = thresholds.evaluate(batch, storageLatencySeconds: latency ?? nil)
            guard !alerts.isEmpty else { continue }
            for alert in alerts {
                events.append(kind: "alert", fields: ["correlationId": alert.correlationId, "severity": alert.severity.rawValue, "kind": alert.kind,
                                                      "message": alert.message])
                logger.log(level: alert.severity == .critical ? .critical : alert.severity == .warning ? .warning : .info, "node alert: \(alert.message)",
                           metadata: ["kind": .string(alert.kind), "correlationId": .string(alert.correlationId)])
            }
            // Alerts raised while the controller is unreachable wait for the next chance (they are in the event log meanwhile).
            let waiting = pendingAlerts.withLockedValue { $0 += alerts; return $0 }
            if let token = current?.sessionToken, (try? await link.alerts(token: token, AlertUpload(alerts: waiting))) != nil {
                pendingAlerts.withLockedValue { $0.removeFirst(min(waiting.count, $0.count)) }
            }
        }
    }
}
