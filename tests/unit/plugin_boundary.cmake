# The plugin boundary (issue 7): plugins include only their own folder, the
# public API and the image format.
add_test(NAME PluginBoundary.IncludesOnlyItsOwnFolderThePublicApiAndTheImageFormat
         COMMAND python3 ${CMAKE_CURRENT_LIST_DIR}/plugin_boundary.py ${PROJECT_SOURCE_DIR})
