import Foundation
import NodeContract

/// Parsers of the accelerator vendors' own tools, as the node agent runs them (node-side: the
/// controller only sees their result, in the registration's `InventoryReport`).
public enum VendorToolParsers {
    /// `nvidia-smi --query-gpu=index,name,memory.total --format=csv` (header and units optional:
    /// `--format=csv,noheader,nounits` works too). NVLink is reported when `nvlinkActive` is true
    /// (from `nvidia-smi nvlink --status`).
    public static func nvidiaSMI(_ output: String, nvlinkActive: Bool = false) throws(InventoryParseError) -> [DetectedAccelerator] {
        var devices: [DetectedAccelerator] = []
        for (number, raw) in output.split(whereSeparator: \.isNewline).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.lowercased().hasPrefix("index") { continue }
            let fields = line.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            guard fields.count >= 3, Int(fields[0]) != nil else {
                throw InventoryParseError(source: "nvidia-smi", reason: "line \(number + 1) is not index, name, memory.total: \(line)")
            }
            guard let memory = Int(fields[2].replacingOccurrences(of: "MiB", with: "").trimmingCharacters(in: .whitespaces)) else {
                throw InventoryParseError(source: "nvidia-smi", reason: "line \(number + 1): memory.total \(fields[2]) is not a number of MiB")
            }
            devices.append(DetectedAccelerator(vendor: "nvidia", model: fields[1], memoryMiB: memory, count: 1, interconnect: nvlinkActive ? "NVLink" : "PCIe"))
        }
        return DetectedAccelerator.grouped(devices)
    }

    /// `rocm-smi --showproductname --showmeminfo vram --json`: an object of `cardN` objects.
    public static func rocmSMI(_ output: String, xgmi: Bool = false) throws(InventoryParseError) -> [DetectedAccelerator] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any] else {
            throw InventoryParseError(source: "rocm-smi", reason: "not a JSON object")
        }
        var devices: [DetectedAccelerator] = []
        for key in object.keys.sorted() where key.hasPrefix("card") {
            guard let card = object[key] as? [String: Any] else { throw InventoryParseError(source: "rocm-smi", reason: "\(key) is not an object") }
            guard let model = (card["Card Series"] ?? card["Card series"]) as? String else {
                throw InventoryParseError(source: "rocm-smi", reason: "\(key) has no Card Series")
            }
            guard let bytesText = card["VRAM Total Memory (B)"], let bytes = Int("\(bytesText)") else {
                throw InventoryParseError(source: "rocm-smi", reason: "\(key) has no VRAM Total Memory (B)")
            }
            devices.append(DetectedAccelerator(vendor: "amd", model: model, memoryMiB: bytes / (1024 * 1024), count: 1, interconnect: xgmi ? "xGMI" : "PCIe"))
        }
        return DetectedAccelerator.grouped(devices)
    }

    /// `xpu-smi discovery --json`: `{"device_list": [{"device_name", "memory_physical_size_byte", …}]}`.
    public static func xpuSMI(_ output: String, xeLink: Bool = false) throws(InventoryParseError) -> [DetectedAccelerator] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any],
              let list = object["device_list"] as? [[String: Any]] else {
            throw InventoryParseError(source: "xpu-smi", reason: "no device_list array")
        }
        var devices: [DetectedAccelerator] = []
        for (index, device) in list.enumerated() {
            guard let name = device["device_name"] as? String else { throw InventoryParseError(source: "xpu-smi", reason: "device \(index) has no device_name") }
            guard let sizeText = device["memory_physical_size_byte"], let bytes = Int("\(sizeText)") else {
                throw InventoryParseError(source: "xpu-smi", reason: "device \(index) has no memory_physical_size_byte")
            }
            devices.append(DetectedAccelerator(vendor: "intel", model: name, memoryMiB: bytes / (1024 * 1024), count: 1, interconnect: xeLink ? "Xe Link" : "PCIe"))
        }
        return DetectedAccelerator.grouped(devices)
    }
}
