import NodeContract

/// An accelerator group as the node reports it to the controller.
public typealias DetectedAccelerator = InventoryReport.Accelerator

extension InventoryReport.Accelerator {
    /// Groups single devices by vendor, model and memory.
    static func grouped(_ devices: [InventoryReport.Accelerator]) -> [InventoryReport.Accelerator] {
        var groups: [InventoryReport.Accelerator] = []
        for device in devices {
            if let index = groups.firstIndex(where: { $0.vendor == device.vendor && $0.model == device.model && $0.memoryMiB == device.memoryMiB }) {
                groups[index].count += device.count
            } else {
                groups.append(device)
            }
        }
        return groups
    }
}

/// Output of a vendor tool or a Linux source that could not be read.
public struct InventoryParseError: Error, Equatable, CustomStringConvertible {
    /// Which source: `nvidia-smi`, `rocm-smi`, `/proc/meminfo`, …
    public var source: String
    /// Where and why.
    public var reason: String

    public init(source: String, reason: String) {
        self.source = source
        self.reason = reason
    }

    public var description: String { "cannot read \(source) output: \(reason)" }
}
