import Foundation
import NodeContract

/// Reads the node's hardware: Linux sources, and each vendor's tool where it is installed
/// (`nvidia-smi`, `rocm-smi`, `xpu-smi`). Blocking: run it on a worker thread.
enum InventoryCollector {
    /// The inventory; `root` is `/` on a node, a fixture tree for dry runs and tests.
    static func collect(root: String = "/") -> InventoryReport {
        let linux = try? LinuxInventoryParsers.read(root: root.hasSuffix("/") ? root : root + "/")
        var accelerators: [DetectedAccelerator] = []
        if let output = VendorTool.output("nvidia-smi", ["--query-gpu=index,name,memory.total", "--format=csv,noheader,nounits"]) {
            accelerators += (try? VendorToolParsers.nvidiaSMI(output)) ?? []
        }
        if let output = VendorTool.output("rocm-smi", ["--showproductname", "--showmeminfo", "vram", "--json"]) {
            accelerators += (try? VendorToolParsers.rocmSMI(output)) ?? []
        }
        if let output = VendorTool.output("xpu-smi", ["discovery", "--json"]) {
            accelerators += (try? VendorToolParsers.xpuSMI(output)) ?? []
        }
        return InventoryReport(
            cpuModel: linux?.cpuModel, cpuCores: linux?.cpuThreads ?? ProcessInfo.processInfo.activeProcessorCount,
            memoryMiB: Int((linux?.memoryKiB ?? Int64(ProcessInfo.processInfo.physicalMemory / 1024)) / 1024),
            accelerators: accelerators,
            disks: linux?.disks.map { "\($0.name) \($0.bytes / 1_000_000_000) GB" } ?? [],
            nics: linux?.nics.map { [$0.name, $0.mac].compactMap { $0 }.joined(separator: " ") } ?? [])
    }
}
