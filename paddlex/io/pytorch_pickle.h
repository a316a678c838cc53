// Reader for PyTorch state_dict files (Python torch.save, zip format) without Python: LibTorch's zip reader
// plus a small pickle virtual machine of our own, because torch::pickle_load in LibTorch 1.13 cannot read
// ordinary torch.save(model.state_dict()) files (OrderedDict comes back as None, SETITEM is unsupported).
#pragma once
#include <torch/types.h>

#include <string>
#include <utility>
#include <vector>

namespace paddlex {

// Reads a file written by Python's torch.save (zip format, the default since PyTorch 1.6) or by our own
// save_tensor_dict (torch::pickle_save) holding a dict / OrderedDict of name -> tensor, possibly nested one
// level in {"state_dict": {...}} or {"model": {...}} (the inner dict is returned then). Returns the entries in
// file order, names as stored (no prefix stripping), tensors on the CPU with requires_grad false; views keep
// their size/stride/offset into the saved storage, like torch.load.
// Non-tensor values next to a wrapper (e.g. an int "epoch" next to "state_dict") are ignored; in the
// state_dict itself a non-tensor value is an error.
// Throws RunError naming the path and the reason: missing file, not a zip / legacy (pre-1.6) format,
// TorchScript archive, unsupported pickle opcode, unsupported global (where its object would be used),
// missing or short storage record, bad tensor geometry.
std::vector<std::pair<std::string, torch::Tensor>> read_pytorch_state_dict(const std::string& path);

}  // namespace paddlex
