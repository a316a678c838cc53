// Readers for weight files written by Python without Python: PyTorch's torch.save (zip) and PaddlePaddle's
// paddle.save (.pdparams, a bare pickle of numpy arrays). One small pickle virtual machine of our own serves
// both, because torch::pickle_load in LibTorch 1.13 cannot read ordinary torch.save(model.state_dict()) files
// (OrderedDict comes back as None, SETITEM is unsupported). Nothing in a file is executed: the few globals a
// weight file uses are names with a fixed meaning here; array sizes are checked against their bytes before they
// are allocated, and no pickle may build more array bytes than it holds.
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

// Reads a PaddlePaddle state_dict file (paddle.save of Layer.state_dict(): .pdparams, .pdema): a
// pickle (protocol 2 to 4) of a dict name -> numpy array, each array numpy's _reconstruct + BUILD with its raw
// bytes. Returns the arrays in file order as CPU tensors, names and layouts as PaddlePaddle has them (BatchNorm
// "_mean"/"_variance", Linear weights [in, out]); the "StructuredToParameterName@@" table is skipped.
// Throws RunError naming the path and the reason: truncated file, not a pickle of a dict of arrays, object,
// big-endian or unsupported dtypes, a size that disagrees with the data, any global other than those of numpy's
// array reconstruction, protocol 2's bytes and OrderedDict (refused where the pickle names it).
std::vector<std::pair<std::string, torch::Tensor>> read_paddle_state_dict(const std::string& path);

}  // namespace paddlex
