import Foundation
import NIOConcurrencyHelpers
import NodeContract

/// Node-side threshold alerts: accelerator temperature, CPU utilisation, node memory and storage
/// latency. An alert is raised when a measure enters a worse severity and once more (as `info`)
/// when it recovers, each with a correlation id that also lands in the event log.
final class ThresholdMonitor: Sendable {
    let configuration: AgentConfiguration
    private let active = NIOLockedValueBox<[String: AlertReport.Severity]>([:])

    init(configuration: AgentConfiguration) { self.configuration = configuration }

    /// The alerts `batch` (and the storage probe's latency) raise now.
    func evaluate(_ batch: TelemetryBatch, storageLatencySeconds: Double?) -> [AlertReport] {
        var readings: [(kind: String, severity: AlertReport.Severity?, value: Double, threshold: Double, message: String)] = []
        if let hottest = batch.thermal.acceleratorCelsius.max() {
            let severity: AlertReport.Severity? = hottest >= configuration.alertAcceleratorCriticalCelsius ? .critical
                : hottest >= configuration.alertAcceleratorWarnCelsius ? .warning : nil
            readings.append(("accelerator_temperature", severity, hottest,
                             severity == .critical ? configuration.alertAcceleratorCriticalCelsius : configuration.alertAcceleratorWarnCelsius,
                             "hottest accelerator at \(Int(hottest)) °C"))
        }
        if let cpu = batch.cpuUtilization {
            readings.append(("cpu_utilization", cpu >= configuration.alertCPUUtilizationWarn ? .warning : nil, cpu, configuration.alertCPUUtilizationWarn,
                             "CPU \(Int(cpu * 100))% busy"))
        }
        if batch.memory.totalMiB > 0 {
            let available = Double(batch.memory.availableMiB) / Double(batch.memory.totalMiB)
            let severity: AlertReport.Severity? = available < configuration.alertMemoryAvailableCritical ? .critical
                : available < configuration.alertMemoryAvailableWarn ? .warning : nil
            readings.append(("node_memory", severity, available,
                             severity == .critical ? configuration.alertMemoryAvailableCritical : configuration.alertMemoryAvailableWarn,
                             "\(batch.memory.availableMiB) MiB of \(batch.memory.totalMiB) MiB available (\(Int(available * 100))%)"))
        }
        if let latency = storageLatencySeconds {
            readings.append(("storage_latency", latency >= configuration.alertStorageLatencyWarnSeconds ? .warning : nil, latency,
                             configuration.alertStorageLatencyWarnSeconds, String(format: "a 4 KiB write+fsync on the staging volume took %.3f s", latency)))
        }
        var alerts: [AlertReport] = []
        for reading in readings {
            let previous = active.withLockedValue { $0[reading.kind] }
            guard reading.severity != previous else { continue }
            active.withLockedValue { $0[reading.kind] = reading.severity }
            let severity = reading.severity ?? .info
            let message = reading.severity == nil ? "recovered: " + reading.message : reading.message
            alerts.append(AlertReport(correlationId: "alert-" + UUID().uuidString.lowercased(), severity: severity, kind: reading.kind,
                                      message: message, value: reading.value, threshold: reading.threshold, at: batch.at))
        }
        return alerts
    }

    /// Seconds a 4 KiB write and fsync take in `directory` (blocking: call on a worker thread).
    static func storageLatency(in directory: String) -> Double? {
        let path = directory + "/.metalplane-latency-probe"
        let start = ContinuousClock.now
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { return nil }
        defer { close(fd); unlink(path) }
        let bytes = [UInt8](repeating: 0, count: 4096)
        guard write(fd, bytes, bytes.count) == bytes.count, fsync(fd) == 0 else { return nil }
        return DurationSeconds.of(ContinuousClock.now - start)
    }
}
