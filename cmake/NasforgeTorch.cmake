# nasforge_use_torch(<target> [PRIVATE]): links LibTorch into <target> and gives it the one shared
# precompiled <torch/torch.h>. Measured on 2 cores: the PCH costs ~45 s once and
# cuts an edit-and-rebuild of a torch TU from ~35-50 s to ~15 s. Only torch-linking components
# (supernet/ and below it in the dependency order) call this; searchspace/ never does.
# PRIVATE: for a library whose public headers do not include LibTorch, so that its users do not
# inherit LibTorch's include paths and flags (a static library still carries the link).
function(nasforge_use_torch target)
  set(scope PUBLIC)
  if(ARGC GREATER 1)
    set(scope ${ARGV1})
  endif()
  find_package(Torch REQUIRED)
  target_link_libraries(${target} ${scope} torch)
  if(NOT TARGET nasforge_torch_pch)
    add_library(nasforge_torch_pch STATIC ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/torch_pch.cpp)
    target_link_libraries(nasforge_torch_pch PUBLIC torch)
    target_precompile_headers(nasforge_torch_pch PUBLIC <torch/torch.h>)
  endif()
  target_precompile_headers(${target} REUSE_FROM nasforge_torch_pch)
endfunction()
