import Core
import Foundation
import Logging
import NIOConcurrencyHelpers
import NodeContract
import ServiceLifecycle

/// The release wipe and stopping every runner.
extension NodeAgent {
    /// The release wipe: stop every runner, delete every staged model, erase the configured devices.
    func wipe(commandID: String) async -> WipeReport {
        logger.notice("wiping the node for release", metadata: ["command": .string(commandID), "devices": .string(configuration.wipeDevices.joined(separator: ","))])
        events.append(kind: "wipe.started", fields: ["command": commandID])
        wiping.withLockedValue { $0 = true }
        await stopAll()
        let area = self.area
        let devices = configuration.wipeDevices
        let logger = self.logger
        do {
            let bytes = try await workers.run { () -> Int64 in
                for entry in area.entries() { try area.remove(entry.modelId) }
                var total: Int64 = 0
                for device in devices { total += try DeviceEraser.erase(device, logger: logger) }
                return total
            }
            events.append(kind: "wipe.done", fields: ["command": commandID, "bytes": String(bytes)])
            return WipeReport(commandId: commandID, erased: devices, bytes: bytes)
        } catch {
            events.append(kind: "wipe.failed", fields: ["command": commandID, "error": "\(error)"])
            logger.error("wipe failed", metadata: ["error": .string("\(error)")])
            return WipeReport(commandId: commandID, erased: [], bytes: 0, error: "\(error)")
        }
    }

    /// Stops every runner.
    func stopAll() async {
        let all = supervisors.withLockedValue { current -> [RunnerSupervisor] in
            defer { current = [:] }
            return Array(current.values)
        }
        for supervisor in all { await supervisor.stop() }
        events.flush()
    }
}
