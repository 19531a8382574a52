//! The autodiff device a fit runs on.

use burn::tensor::Device;

use super::config::{FitDevice, FitError};

/// The autodiff device for `choice`, or an error naming the cargo feature
/// the build lacks.
pub(super) fn autodiff_device(choice: FitDevice) -> Result<Device, FitError> {
    #[allow(unreachable_code)]
    let missing = |feature: &str| {
        Err(FitError::Config(format!(
            "this build has no `{feature}` backend; rebuild causalgrad with `--features {feature}`"
        )))
    };
    match choice {
        FitDevice::Flex => Ok(Device::flex().autodiff()),
        #[cfg(feature = "cpu")]
        FitDevice::Cpu => Ok(Device::cpu().autodiff()),
        #[cfg(not(feature = "cpu"))]
        FitDevice::Cpu => missing("cpu"),
        #[cfg(feature = "cuda")]
        FitDevice::Cuda(index) => Ok(Device::cuda(index).autodiff()),
        #[cfg(not(feature = "cuda"))]
        FitDevice::Cuda(_) => missing("cuda"),
        #[cfg(feature = "wgpu")]
        FitDevice::Wgpu => Ok(Device::wgpu(burn::tensor::DeviceKind::DefaultDevice).autodiff()),
        #[cfg(not(feature = "wgpu"))]
        FitDevice::Wgpu => missing("wgpu"),
    }
}
