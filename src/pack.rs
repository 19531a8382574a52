//! The container of model files and checkpoints: burn's burnpack format
//! (a header, CBOR metadata, aligned little-endian tensors), written
//! atomically (a scratch file beside the target, then a rename).

use std::collections::BTreeMap;
use std::path::Path;

use burn::store::burn_pack::{self, Reader, Writer};
use burn::tensor::{Bytes, DType};

/// The contents of one container: string metadata, `f32` vectors and raw
/// byte blobs, each by name (blob names start with [`BLOB_PREFIX`]).
#[derive(Debug, Default)]
pub(crate) struct Pack {
    pub metadata: BTreeMap<String, String>,
    pub vectors: BTreeMap<String, Vec<f32>>,
    pub blobs: BTreeMap<String, Vec<u8>>,
}

/// Why a container could not be read or written.
#[derive(Debug)]
pub(crate) enum PackError {
    /// The file system refused (missing file, permissions, full disk).
    Io(std::io::Error),
    /// The bytes are not a complete burnpack container.
    Format(String),
}

impl Pack {
    /// Writes the container to `path` atomically: the previous file, if
    /// any, stays intact until the new one is complete.
    pub fn write(self, path: &Path) -> Result<(), PackError> {
        let mut tensors = Vec::with_capacity(self.vectors.len() + self.blobs.len());
        for (name, values) in self.vectors {
            let len = values.len();
            let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
            tensors.push(burn_pack::Tensor::new(
                name,
                DType::F32,
                [len],
                None,
                Bytes::from_bytes_vec(bytes),
            ));
        }
        for (name, bytes) in self.blobs {
            let len = bytes.len();
            tensors.push(burn_pack::Tensor::new(
                name,
                DType::U8,
                [len],
                None,
                Bytes::from_bytes_vec(bytes),
            ));
        }
        let mut writer = Writer::new(tensors).auto_extension(false).overwrite(true);
        for (key, value) in &self.metadata {
            writer = writer.with_metadata(key, value);
        }
        writer.write_to_file(path).map_err(|error| match error {
            burn_pack::Error::IoError(message) => PackError::Io(std::io::Error::other(message)),
            other => PackError::Format(other.to_string()),
        })
    }

    /// Reads a whole container from `path`.
    pub fn read(path: &Path) -> Result<Pack, PackError> {
        let bytes = std::fs::read(path).map_err(PackError::Io)?;
        let reader = Reader::from_bytes(Bytes::from_bytes_vec(bytes))
            .map_err(|e| PackError::Format(e.to_string()))?;
        let mut pack = Pack {
            metadata: reader.metadata().clone(),
            ..Pack::default()
        };
        let names: Vec<String> = reader
            .tensor_names()
            .iter()
            .map(|s| s.to_string())
            .collect();
        for name in names {
            let data = reader
                .tensor_data(&name)
                .map_err(|e| PackError::Format(e.to_string()))?;
            if name.starts_with(BLOB_PREFIX) {
                pack.blobs.insert(name, data);
            } else {
                if data.len() % 4 != 0 {
                    return Err(PackError::Format(format!(
                        "tensor `{name}` has {} bytes, not a whole number of f32 values",
                        data.len()
                    )));
                }
                let values = data
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .collect();
                pack.vectors.insert(name, values);
            }
        }
        Ok(pack)
    }
}

/// Names of byte blobs start with this (vectors' names never do).
pub(crate) const BLOB_PREFIX: &str = "blob.";
