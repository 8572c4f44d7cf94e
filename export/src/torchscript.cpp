// TorchScript export: one line of TorchScript per graph op, compiled by LibTorch's own script
// compiler (Module::define), with the weights as the module's parameters.
#include "nasforge/export/torchscript.h"
#include "nasforge/searchspace/files.h"
#include "nasforge/supernet/errors.h"

#include <torch/script.h>
#include <torch/torch.h>

#include <cmath>
#include <sstream>

namespace nasforge::exporter {

namespace {

using supernet::ActKind;
using supernet::Graph;
using supernet::GraphOp;
using supernet::OpKind;

std::string list(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

std::string real(double v) {
  std::ostringstream o;
  o.precision(17);
  o << v;
  std::string s = o.str();
  if (s.find_first_of(".eE") == std::string::npos) s += ".0";
  return s;
}

// Walks the graph once; `weight` names each tensor the module will hold.
template <typename Weight>
std::string generate(const Graph& g, Weight&& weight) {
  std::ostringstream src;
  src << "def forward(self, x):\n";
  auto v = [](int id) { return id == 0 ? std::string("x") : "t" + std::to_string(id); };
  auto opt = [&](const at::Tensor& t) { return t.defined() ? weight(t) : std::string("None"); };
  for (size_t i = 1; i < g.ops.size(); ++i) {
    const GraphOp& op = g.ops[i];
    const std::string out = "    " + v(static_cast<int>(i)) + " = ";
    auto in = [&](size_t k) { return v(op.inputs.at(k)); };
    switch (op.kind) {
      case OpKind::kInput:
        break;
      case OpKind::kConv: {
        std::string x = in(0);
        int64_t pad = op.pad_begin;
        if (op.pad_begin != op.pad_end) {  // asymmetric: pad first
          x = "torch.constant_pad_nd(" + x + ", " +
              list({op.pad_begin, op.pad_end, op.pad_begin, op.pad_end}) + ", 0.0)";
          pad = 0;
        }
        src << out << "torch.conv2d(" << x << ", " << weight(op.weight) << ", " << opt(op.bias)
            << ", " << list({op.stride, op.stride}) << ", " << list({pad, pad}) << ", "
            << list({op.dilation, op.dilation}) << ", " << op.groups << ")\n";
        break;
      }
      case OpKind::kBatchNorm:
        src << out << "torch.batch_norm(" << in(0) << ", " << weight(op.weight) << ", "
            << weight(op.bias) << ", " << weight(op.mean) << ", " << weight(op.var)
            << ", False, 0.0, " << real(op.eps) << ", False)\n";
        break;
      case OpKind::kAct: {
        static const char* fn[] = {"torch.relu({})",      "torch.clamp({}, 0.0, 6.0)",
                                   "torch.hardswish({})", "torch.hardsigmoid({})",
                                   "torch.gelu({})",      "torch.mul({}, torch.sigmoid({}))"};
        std::string f = fn[static_cast<int>(op.act)];
        for (size_t at = f.find("{}"); at != std::string::npos; at = f.find("{}", at))
          f.replace(at, 2, in(0));
        src << out << f << "\n";
        break;
      }
      case OpKind::kAdd:
        src << out << in(0) << " + " << in(1) << "\n";
        break;
      case OpKind::kMul:
        if (g.ops[op.inputs[1]].shape.size() == 2)
          src << out << in(0) << " * torch.reshape(" << in(1) << ", [" << in(1) << ".size(0), "
              << in(1) << ".size(1), 1, 1])\n";
        else
          src << out << in(0) << " * " << in(1) << "\n";
        break;
      case OpKind::kConcat: {
        src << out << "torch.cat([";
        for (size_t k = 0; k < op.inputs.size(); ++k) src << (k ? ", " : "") << in(k);
        src << "], 1)\n";
        break;
      }
      case OpKind::kShuffle: {
        const auto& x = g.ops[op.inputs[0]].shape;
        src << out << "torch.reshape(torch.transpose(torch.reshape(" << in(0) << ", [" << in(0)
            << ".size(0), " << op.groups << ", " << x[1] / op.groups << ", " << x[2] << ", " << x[3]
            << "]), 1, 2), [" << in(0) << ".size(0), " << x[1] << ", " << x[2] << ", " << x[3]
            << "])\n";
        break;
      }
      case OpKind::kSlice:
        src << out << "torch.narrow(" << in(0) << ", 1, " << op.begin << ", " << op.end - op.begin
            << ")\n";
        break;
      case OpKind::kPool:
        if (op.max)
          src << out << "torch.max_pool2d(" << in(0) << ", " << list({op.kernel, op.kernel}) << ", "
              << list({op.stride, op.stride}) << ", " << list({op.pad_begin, op.pad_begin})
              << ")\n";
        else
          src << out << "torch.avg_pool2d(" << in(0) << ", " << list({op.kernel, op.kernel}) << ", "
              << list({op.stride, op.stride}) << ", " << list({op.pad_begin, op.pad_begin})
              << ", False, False)\n";
        break;
      case OpKind::kGlobalPool: {
        const bool tokens = g.ops[op.inputs[0]].shape.size() == 3;
        src << out << (op.max ? "torch.amax(" : "torch.mean(") << in(0) << ", "
            << (tokens ? "[1], False" : "[2, 3], True") << ")\n";
        break;
      }
      case OpKind::kFlatten:
        src << out << "torch.flatten(" << in(0) << ", 1)\n";
        break;
      case OpKind::kLinear: {
        std::string x = in(0);
        if (g.ops[op.inputs[0]].shape.size() == 4) x = "torch.flatten(" + x + ", 1)";
        src << out << "torch.linear(" << x << ", " << weight(op.weight) << ", " << opt(op.bias)
            << ")\n";
        break;
      }
      case OpKind::kZero: {
        std::vector<int64_t> rest(op.shape.begin() + 1, op.shape.end());
        std::string dims = list(rest);
        src << out << "torch.zeros([x.size(0), " << dims.substr(1) << ", dtype=x.dtype)\n";
        break;
      }
      case OpKind::kTokens:
        src << out << "torch.transpose(torch.flatten(" << in(0) << ", 2), 1, 2)\n";
        break;
      case OpKind::kConstant:
        src << out << weight(op.weight) << "\n";
        break;
      case OpKind::kLayerNorm:
        src << out << "torch.layer_norm(" << in(0) << ", " << list({op.weight.size(0)}) << ", "
            << weight(op.weight) << ", " << weight(op.bias) << ", " << real(op.eps) << ", False)\n";
        break;
      case OpKind::kAttention: {
        const int64_t d = op.shape[2], hd = d / op.heads;
        auto split = [&](size_t k) {
          return "torch.transpose(torch.reshape(" + in(k) + ", [" + in(k) + ".size(0), " + in(k) +
                 ".size(1), " + std::to_string(op.heads) + ", " + std::to_string(hd) + "]), 1, 2)";
        };
        const std::string t = v(static_cast<int>(i));
        src << "    " << t << "_s = torch.softmax(torch.matmul(" << split(0) << ", torch.transpose("
            << split(1) << ", 2, 3)) * " << real(1.0 / std::sqrt(static_cast<double>(hd)))
            << ", -1)\n";
        src << out << "torch.reshape(torch.transpose(torch.matmul(" << t << "_s, " << split(2)
            << "), 1, 2), [" << in(0) << ".size(0), " << in(0) << ".size(1), " << d << "])\n";
        break;
      }
    }
  }
  src << "    return " << v(g.output) << "\n";
  return src.str();
}

}  // namespace

std::string torchscript_source(const Graph& graph) {
  int n = 0;
  return generate(graph, [&](const at::Tensor&) { return "self.w" + std::to_string(n++); });
}

Status save_torchscript(const Graph& graph, const std::string& path,
                        const std::string& metadata_json) {
  try {
    torch::jit::Module m("nasforge_network");
    int n = 0;
    const std::string src = generate(graph, [&](const at::Tensor& t) {
      const std::string name = "w" + std::to_string(n++);
      m.register_parameter(name, t.detach().clone(), /*is_buffer=*/false);
      return "self." + name;
    });
    m.define(src);
    m.eval();
    torch::jit::ExtraFilesMap extra{{"nasforge.json", metadata_json}};
    std::ostringstream bytes;
    m.save(bytes, extra);
    return write_atomically(path, bytes.str(), "TorchScript module");
  } catch (const c10::Error& e) {
    return InvalidArgument("torchscript export: " + std::string(e.what_without_backtrace()));
  } catch (const std::exception& e) {
    return InvalidArgument("torchscript export: " + supernet::error_text(e));
  }
}

}  // namespace nasforge::exporter
