# SPDX-License-Identifier: MIT
# The header_linkage test (cmake -P): programs of two C translation units
# that both include shmetrics.h, call every recorder inline and take their
# addresses, compiled with each C compiler in CCS, under C11, C99 and GNU89
# inline semantics (-std=gnu89, -fgnu89-inline), at -O0 and -O2, and linked
# against the shared and the static library: no multiple definition, no
# undefined recorder, one address per recorder. Then the same with a C++
# translation unit added (each compiler in CXXS, C++17): its COMDAT copies
# and the library's definitions must agree too.
# Arguments: -DCCS=... -DCXXS=... -DSRC=tests/cxx -DINC=include
#            -DSHARED=libshmetrics.so -DSTATIC=libshmetrics.a -DWORK=dir
cmake_minimum_required(VERSION 3.18)
string(REPLACE "|" ";" CCS "${CCS}") # lists arrive |-separated
string(REPLACE "|" ";" CXXS "${CXXS}")

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    list(JOIN ARGN " " cmd)
    message(FATAL_ERROR "exit ${rc}: ${cmd}\n${out}${err}")
  endif()
endfunction()

get_filename_component(shared_dir ${SHARED} DIRECTORY)
set(libs_shared ${SHARED} -Wl,-rpath,${shared_dir} -lpthread -lm)
set(libs_static ${STATIC} -lpthread -lm)
set(warn -Wall -Wextra -Werror -I${INC} -I${SRC})
file(REMOVE_RECURSE ${WORK})
set(n 0)

# link_and_run(<driver> <dir> <objects...>): both libraries, then run.
function(link_and_run driver dir)
  foreach(lib shared static)
    run(${driver} ${ARGN} ${libs_${lib}} -o ${dir}/prog_${lib})
    run(${dir}/prog_${lib})
  endforeach()
endfunction()

foreach(cc IN LISTS CCS)
  foreach(mode c11 c99 gnu89 gnu89-inline)
    if(mode STREQUAL "gnu89-inline")
      set(std -std=c11 -fgnu89-inline)
    elseif(mode STREQUAL "c11")
      set(std -std=c11 -Wpedantic)
    else()
      set(std -std=${mode})
    endif()
    foreach(opt -O0 -O2)
      math(EXPR n "${n} + 1")
      set(d ${WORK}/c${n})
      file(MAKE_DIRECTORY ${d})
      foreach(tu a b)
        run(${cc} ${std} ${opt} ${warn} -DLINKAGE_TU=linkage_${tu} -c ${SRC}/linkage_tu.c
            -o ${d}/${tu}.o)
      endforeach()
      run(${cc} ${std} ${opt} ${warn} -c ${SRC}/linkage_main.c -o ${d}/main.o)
      link_and_run(${cc} ${d} ${d}/main.o ${d}/a.o ${d}/b.o)
      list(JOIN std " " flags)
      message(STATUS "ok: ${cc} ${flags} ${opt}, shared and static")
    endforeach()
  endforeach()
endforeach()

list(GET CCS 0 cc)
foreach(cxx IN LISTS CXXS)
  foreach(opt -O0 -O2)
    math(EXPR n "${n} + 1")
    set(d ${WORK}/cxx${n})
    file(MAKE_DIRECTORY ${d})
    foreach(tu a b)
      run(${cc} -std=c11 ${opt} ${warn} -DLINKAGE_TU=linkage_${tu} -c ${SRC}/linkage_tu.c
          -o ${d}/${tu}.o)
    endforeach()
    run(${cxx} -x c++ -std=c++17 -Wpedantic ${opt} ${warn} -DLINKAGE_TU=linkage_cxx
        -c ${SRC}/linkage_tu.c -o ${d}/cxx.o)
    run(${cc} -std=c11 ${opt} ${warn} -DLINKAGE_CXX -c ${SRC}/linkage_main.c -o ${d}/main.o)
    link_and_run(${cxx} ${d} ${d}/main.o ${d}/a.o ${d}/b.o ${d}/cxx.o)
    message(STATUS "ok: ${cxx} -std=c++17 ${opt} with C, shared and static")
  endforeach()
endforeach()
